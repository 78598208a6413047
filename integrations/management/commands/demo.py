import secrets
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from integrations.demo import (
    DEMO_USERNAME,
    demo_channels_setup,
    demo_correction,
    demo_cycle,
    demo_login_ensure,
    demo_warehouse,
)
from integrations.models import SyncRun
from integrations.sandbox.registry import SANDBOX_CLASSES, Sandboxes


class Command(BaseCommand):
    help = (
        "Run the hub against the sandbox channels: migrate, create a login, start the sandbox APIs and a "
        "django-q2 cluster, and serve the admin on 127.0.0.1:8000. With --once: one cycle of every flow, "
        "a summary table, and exit 1 if any run failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one cycle against an in-process sandbox and exit")
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--sandbox-port", type=int, default=8100, help="first sandbox port (0: any free ports)")
        parser.add_argument(
            "--force", action="store_true", help="run even with DEBUG off (it adds sandbox channels to this database)"
        )

    def handle(self, *args, once: bool, addr: str, sandbox_port: int, force: bool, **options):
        if not settings.DEBUG and not force:
            # DEBUG off means a real deployment: demo channels and a superuser do not belong in its database.
            raise CommandError(
                "DEBUG is off, so this looks like a real deployment: the demo would add sandbox channels and an "
                "admin login to its database. Run it with DEBUG=1 (make demo does), or pass --force."
            )
        call_command("migrate", interactive=False, verbosity=0)
        ports = {kind: (sandbox_port + i if sandbox_port else 0) for i, kind in enumerate(SANDBOX_CLASSES)}
        if once:
            ports = dict.fromkeys(SANDBOX_CLASSES, 0)
        sandboxes = Sandboxes.start(ports=ports)
        try:
            channels = demo_channels_setup(sandboxes=sandboxes)
            runs = demo_cycle(channels=channels)
            shipment_flows = ("shipments.download", "shipments.upload")
            if demo_warehouse(sandboxes=sandboxes):  # shipments for the orders just submitted
                runs += demo_cycle(channels=channels, only=shipment_flows)
            if demo_correction(sandboxes=sandboxes):  # a tracking number corrected after it reached the channel
                runs += demo_cycle(channels=channels, only=shipment_flows)
            self._summary(runs)
            if once:
                if any(run.status == SyncRun.Status.FAILED for run in runs):
                    raise CommandError("at least one run failed")
                return
            self._login(addr)
            self._serve(addr, sandboxes)
        finally:
            sandboxes.stop()

    def _summary(self, runs: list[SyncRun]) -> None:
        header = f"{'channel':22} {'flow':24} {'status':8} {'seen':>6} {'created':>7} {'updated':>7} {'failed':>6}"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for run in runs:
            self.stdout.write(
                f"{run.channel.slug:22} {run.flow:24} {run.status:8} {run.seen:6} {run.created:7} {run.updated:7} {run.failed:6}"
            )
            if run.error:
                self.stdout.write(f"    {run.error}")

    def _login(self, addr: str) -> None:
        password = settings.DEMO_PASSWORD or secrets.token_urlsafe(12)
        if demo_login_ensure(username=DEMO_USERNAME, password=password):
            shown = "the password in DEMO_PASSWORD" if settings.DEMO_PASSWORD else password
            self.stdout.write(self.style.SUCCESS(f"\nLog in at http://{addr}/admin/ as {DEMO_USERNAME} / {shown}\n"))
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nLog in at http://{addr}/admin/ as {DEMO_USERNAME}: the user already existed, "
                    "its password is unchanged.\n"
                )
            )

    def _serve(self, addr: str, sandboxes: Sandboxes) -> None:
        for kind in SANDBOX_CLASSES:
            self.stdout.write(f"sandbox {kind:15} {sandboxes.url(kind)}")
        call_command("sync_schedules")
        worker = subprocess.Popen([sys.executable, "manage.py", "qcluster"])
        try:
            call_command("runserver", addr, use_reloader=False)
        finally:
            worker.terminate()
            worker.wait(timeout=30)

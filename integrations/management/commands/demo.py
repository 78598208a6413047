import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from integrations.demo import DEMO_USERNAME, DemoOutcome, DemoRefused, demo_login_ensure, demo_reset, demo_world
from integrations.flows import flow_label
from integrations.sandbox.registry import SANDBOX_CLASSES, Sandboxes

STOP_WAIT = 5  # seconds a child gets to stop after SIGTERM before it is killed


class Command(BaseCommand):
    help = (
        "Run the hub against the sandbox channels: reset the demo's tables (refused if the database holds other "
        "channels), migrate, build the demo world, then serve the admin and run a django-q2 cluster until Ctrl-C. "
        "With --once: build the world, print a summary table and exit 1 if a run failed that the demo did not "
        "stage."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one cycle against an in-process sandbox and exit")
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--sandbox-port", type=int, default=8100, help="first sandbox port (0: any free ports)")
        parser.add_argument("--log", default="demo.log", help="where the web server and the cluster write")
        parser.add_argument(
            "--force", action="store_true", help="run even with DEBUG off (it adds sandbox channels to this database)"
        )

    def handle(self, *args, once: bool, addr: str, sandbox_port: int, log: str, force: bool, **options):
        if not settings.DEBUG and not force:
            # DEBUG off means a real deployment: demo channels and a superuser do not belong in its database.
            raise CommandError(
                "DEBUG is off, so this looks like a real deployment: the demo would add sandbox channels and an "
                "admin login to its database. Run it with DEBUG=1 (make demo does), or pass --force."
            )
        call_command("migrate", interactive=False, verbosity=0)
        try:
            demo_reset()
        except DemoRefused as exc:
            raise CommandError(f"Not resetting: {exc}.") from None
        ports = {kind: (sandbox_port + i if sandbox_port and not once else 0) for i, kind in enumerate(SANDBOX_CLASSES)}
        sandboxes = Sandboxes.start(ports=ports)
        try:
            # The summary table says what each run did: the runner's own line per run would bury it. The level is
            # put back after, so a process that goes on (a test session, the served demo) logs as configured.
            quiet = logging.getLogger("integrations")
            level = quiet.level
            quiet.setLevel(logging.ERROR)
            try:
                outcome = demo_world(sandboxes=sandboxes)
            finally:
                quiet.setLevel(level)
            self._summary(outcome)
            if once:
                if outcome.unexpected_failures:
                    raise CommandError("at least one run failed")
                return
            password = self._login()
            self._serve(addr, sandboxes, password, Path(log).resolve())
        finally:
            sandboxes.stop()

    def _summary(self, outcome: DemoOutcome) -> None:
        header = f"{'channel':22} {'flow':26} {'status':8} {'seen':>6} {'created':>7} {'updated':>7} {'failed':>6}"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        staged = {run.pk for run in outcome.staged_failures}
        for run in outcome.runs:
            self.stdout.write(
                f"{run.channel.slug:22} {flow_label(run.flow):26} {run.status:8} {run.seen:6} {run.created:7} "
                f"{run.updated:7} {run.failed:6}"
            )
            if run.error:
                self.stdout.write(f"    {run.error}" + ("  [staged by the demo]" if run.pk in staged else ""))

    def _login(self) -> str:
        """What the banner says of the login: DEMO_PASSWORD or a random password for a new user; an existing
        user is left exactly as it is (the demo never resets a password someone set)."""
        password = settings.DEMO_PASSWORD or secrets.token_urlsafe(12)
        if not demo_login_ensure(username=DEMO_USERNAME, password=password):
            return f"{DEMO_USERNAME} (the user already existed: its password is unchanged)"
        return f"{DEMO_USERNAME} / " + ("the password in DEMO_PASSWORD" if settings.DEMO_PASSWORD else password)

    def _serve(self, addr: str, sandboxes: Sandboxes, password: str, log: Path) -> None:
        """The web server and the cluster as children writing to `log`; the console keeps the banner. Ctrl-C
        stops both (SIGTERM, then SIGKILL after STOP_WAIT seconds) and the sandboxes."""
        call_command("sync_schedules")
        # The children derive the same credential key; passing it spares each of them the warning about it.
        env = {**os.environ, "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEYS)}
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        # Started in the background by a shell without job control, a process inherits SIGINT ignored, and Python
        # then installs no KeyboardInterrupt for it: Ctrl-C (or a test's SIGINT) must still stop the demo.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        children = []
        with log.open("a") as out:
            try:
                for command in (["runserver", addr, "--noreload"], ["qcluster"]):
                    # A session of their own: the terminal's Ctrl-C reaches this process only, which stops them
                    # in order instead of each child printing its own KeyboardInterrupt traceback.
                    children.append(
                        subprocess.Popen(manage + command, stdout=out, stderr=out, env=env, start_new_session=True)
                    )
                self._wait_for_server(addr, children[0], log)
                self._banner(addr, password, sandboxes, log)
                while all(child.poll() is None for child in children):
                    time.sleep(0.5)
                raise CommandError(f"a demo process stopped; see {log}")
            except KeyboardInterrupt:
                self.stdout.write("\nStopping the demo…")
            finally:
                _stop(children)
        self.stdout.write("Stopped.")

    def _wait_for_server(self, addr: str, server: subprocess.Popen, log: Path) -> None:
        host, _, port = addr.rpartition(":")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError(f"the web server did not start; see {log}")
            try:
                socket.create_connection((host or "127.0.0.1", int(port)), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise CommandError(f"the web server did not answer on {addr}; see {log}")

    def _banner(self, addr: str, password: str, sandboxes: Sandboxes, log: Path) -> None:
        lines = [
            "Switchyard demo is running",
            "",
            f"Admin:    http://{addr}/admin/",
            f"Login:    {password}",
            "Examples: a held order, a refused submission and shipment upload, a discrepancy, a failed run,",
            "          a conflicting listing: each waits for you in the admin.",
            *(f"Sandbox:  {kind:15} {sandboxes.url(kind)}" for kind in SANDBOX_CLASSES),
            f"Logs:     {log}",
            "",
            "Ctrl-C stops everything. The next `make demo` starts the same world afresh.",
        ]
        width = max(len(line) for line in lines) + 4
        rule = "=" * width
        self.stdout.write(self.style.SUCCESS("\n".join([rule, *(f"  {line}" for line in lines), rule])))


def _stop(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT
    for child in children:
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()

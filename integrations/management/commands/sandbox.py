import time

from django.core.management.base import BaseCommand, CommandError

from integrations.sandbox.registry import SANDBOX_CLASSES, Sandboxes
from integrations.sandbox.seed import build_world
from integrations.sandbox.server import FAULT_KINDS


class Command(BaseCommand):
    help = "Run the sandbox APIs (ChannelAdvisor, NuORDER, Extensiv, OMS) on 127.0.0.1 until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8100, help="first port; the others follow (0: any free port)")
        parser.add_argument("--styles", type=int, default=6, help="styles in the seeded catalog")
        parser.add_argument("--orders", type=int, default=8, help="orders seeded per channel")
        parser.add_argument(
            "--fault",
            action="append",
            default=[],
            metavar="KIND:FAULT[:TIMES[:STATUS]]",
            help=f"inject a fault, e.g. channeladvisor:status:3:429 or oms:drop_after. Faults: {', '.join(FAULT_KINDS)}",
        )

    def handle(self, *args, port: int, styles: int, orders: int, fault: list[str], **options):
        ports = {kind: (port + i if port else 0) for i, kind in enumerate(SANDBOX_CLASSES)}
        sandboxes = Sandboxes.start(world=build_world(styles=styles, orders=orders), ports=ports)
        for spec in fault:
            self._inject(sandboxes, spec)
        for kind in SANDBOX_CLASSES:
            self.stdout.write(f"{kind:15} {sandboxes.url(kind)}")
        self.stdout.write('Faults can also be set over HTTP: POST <url>_sandbox/faults {"kind": "status", ...}')
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            sandboxes.stop()

    def _inject(self, sandboxes: Sandboxes, spec: str) -> None:
        kind, _, rest = spec.partition(":")
        fault_kind, times, status = ([*rest.split(":"), "", ""])[:3]
        if kind not in SANDBOX_CLASSES or fault_kind not in FAULT_KINDS:
            raise CommandError(f"bad --fault {spec!r}")
        options = {"times": int(times or 1)}
        if status:
            options["status"] = int(status)
            if int(status) in (429, 503):
                options["retry_after"] = 1
        sandboxes.api(kind).inject(fault_kind, **options)

"""Starts the four sandbox APIs together and tells how to point a channel at each."""

import importlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from integrations.sandbox.seed import World, build_world
from integrations.sandbox.server import SandboxAPI, SandboxServer

SANDBOX_CLASSES = {
    "oms": "integrations.sandbox.oms:OmsSandbox",
    "channeladvisor": "integrations.sandbox.channeladvisor:ChannelAdvisorSandbox",
    "nuorder": "integrations.sandbox.nuorder:NuOrderSandbox",
    "extensiv": "integrations.sandbox.extensiv:ExtensivSandbox",
}
ROLES = {"oms": "fulfillment"}
# A sales channel's go-live date (Channel.go_live_at), before every order a sandbox holds — the seeded world and
# the recorded NuORDER orders of 2014 alike — so a sandbox channel imports its whole history, and Order download
# can be switched on (it needs a date).
GO_LIVE = datetime(2010, 1, 1, tzinfo=UTC)
NAMES = {
    "oms": "Fulfillment (sandbox OMS)",
    "channeladvisor": "ChannelAdvisor (sandbox)",
    "nuorder": "NuORDER (sandbox)",
    "extensiv": "Extensiv Order Manager (sandbox)",
}


def sandbox_class(kind: str) -> type[SandboxAPI]:
    module, _, name = SANDBOX_CLASSES[kind].partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass
class Sandboxes:
    world: World
    servers: dict[str, SandboxServer] = field(default_factory=dict)

    @classmethod
    def start(cls, *, world: World | None = None, ports: dict[str, int] | None = None, kinds=None) -> "Sandboxes":
        sandboxes = cls(world=world or build_world())
        for kind in kinds or SANDBOX_CLASSES:
            api = sandbox_class(kind)(sandboxes.world)
            sandboxes.servers[kind] = SandboxServer(api, port=(ports or {}).get(kind, 0)).start()
        return sandboxes

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def api(self, kind: str) -> Any:
        return self.servers[kind].api

    def url(self, kind: str) -> str:
        return self.servers[kind].url

    def reset(self) -> None:
        for server in self.servers.values():
            with server.api.lock:
                server.api.clear_faults()
                server.api.calls.clear()
                server.api.journal.clear()
                server.api.reset()

    def channel_values(self, kind: str, slug: str | None = None) -> dict[str, Any]:
        """Field values for a Channel pointed at this sandbox (credentials the sandbox accepts)."""
        api = self.api(kind)
        role = ROLES.get(kind, "sales")
        return {
            "name": NAMES[kind],
            "slug": slug or f"{kind}-sandbox",
            "kind": kind,
            "role": role,
            "base_url": self.url(kind),
            "credentials": dict(api.credentials),
            "settings": dict(getattr(api, "channel_settings", {})),
            **({"go_live_at": GO_LIVE} if role == "sales" else {}),
        }

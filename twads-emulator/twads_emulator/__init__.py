"""A local X Ads API: Starlette + uvicorn + SQLite, OAuth 1.0a verified, with faults and rate limits.

``EmulatorServer(port=0)`` serves it on a free loopback port (tests, the demo); ``twads-emulator`` serves
it from the command line. ``DEFAULT_CREDENTIALS`` are the credentials it accepts; ``SEED`` names the
seeded entities.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twads_emulator.seed import DEFAULT_CREDENTIALS, OTHER_CREDENTIALS, SEED

if TYPE_CHECKING:
    from twads_emulator.server import EmulatorServer

__all__ = ["DEFAULT_CREDENTIALS", "OTHER_CREDENTIALS", "SEED", "EmulatorServer"]


def __getattr__(name: str) -> Any:
    # uvicorn and Starlette load only when a server is wanted, not when the credentials are.
    if name == "EmulatorServer":
        from twads_emulator.server import EmulatorServer

        return EmulatorServer
    raise AttributeError(name)

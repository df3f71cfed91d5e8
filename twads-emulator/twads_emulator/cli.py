"""``twads-emulator``: serve the local X Ads API from the command line."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from twads_emulator.config import LOG_LEVELS


def _json_arg(value: str) -> Any:
    """A JSON object given inline or as ``@file.json``."""
    try:
        text = Path(value[1:]).read_text() if value.startswith("@") else value
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {value[1:]!r}: {exc.strerror}") from None
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return parsed


def _port(value: str) -> int:
    """A TCP port number, 0..65535 (0 picks a free one)."""
    if not value.isdigit() or int(value) > 65535:
        raise argparse.ArgumentTypeError(f"a port is a whole number within 0..65535; got {value!r}")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twads-emulator",
        description="A local X (Twitter) Ads API for development and tests (API versions 11 and 12).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8765, help="port (default 8765; 0 picks a free one)")
    parser.add_argument("--db", metavar="PATH", help="SQLite file that keeps the state across restarts")
    parser.add_argument(
        "--rate-limits",
        type=_json_arg,
        metavar="JSON",
        help='rate-limit overrides, e.g. \'{"writes": {"limit": 5, "window": 60}}\' (or @file.json)',
    )
    parser.add_argument(
        "--faults",
        type=_json_arg,
        metavar="JSON",
        help='faults to inject, e.g. \'{"seed": 1, "rules": [{"kind": "503", "probability": 0.1}]}\'',
    )
    parser.add_argument(
        "--approval",
        type=_json_arg,
        metavar="JSON",
        help='promoted Tweet approval rule, e.g. \'{"status": "ACCEPTED", "after_seconds": 10}\'',
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a Host name answered besides loopback and --host (repeatable; '*': any; others get 421)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=LOG_LEVELS,
        help="uvicorn log level (default info)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, print the credentials and seeded IDs, serve until interrupted."""
    args = build_parser().parse_args(argv)
    from twads_emulator.seed import DEFAULT_CREDENTIALS, SEED
    from twads_emulator.server import EmulatorServer

    try:
        server = EmulatorServer(
            host=args.host,
            port=args.port,
            db_path=args.db,
            rate_limits=args.rate_limits,
            faults=args.faults,
            approval=args.approval,
            log_level=args.log_level,
            allowed_hosts=args.allowed_host,
        )
    except ValueError as exc:  # a ConfigError naming the flag's key or value and the allowed ones
        print(f"twads-emulator: {exc}", file=sys.stderr)
        return 2
    shown_port = args.port or "<free port>"
    print(f"X Ads API emulator on http://{args.host}:{shown_port} (API versions 11, 12)", flush=True)
    print("These local credentials are accepted (OAuth 1.0a, HMAC-SHA1):")
    for key, value in DEFAULT_CREDENTIALS.items():
        print(f"  {key:20} {value}")
    print(f"Seeded: account {SEED['account_id']}, funding instrument {SEED['funding_instrument_id']}, "
          f"campaign {SEED['campaign_id']}, draft campaign {SEED['draft_campaign_id']}")  # fmt: skip
    print(f"State: {args.db or 'in memory (lost on exit)'}; admin API under /_emulator/", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`pushkin bridge --stdio`: the JSON-lines bridge that editors without gRPC spawn (see clients/BRIDGE.md)."""

from __future__ import annotations

import argparse
import os
import sys

ORDER = 60


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bridge",
        help="speak newline-delimited JSON on stdin/stdout to an editor, gRPC to the daemon",
        description="Bridge one editor to the daemon: one JSON object per line on stdin/stdout (protocol "
        "\"v\": 1, documented in clients/BRIDGE.md) and the gRPC Connect stream to the daemon.",
    )
    parser.add_argument("--stdio", action="store_true", required=True,
                        help="talk to the editor over stdin/stdout (the only transport)")
    parser.add_argument("--address", default=None,
                        help="the daemon's address: unix:///path/to.sock or HOST:PORT "
                        "(default: $PUSHKIN_ADDRESS, else the daemon's default Unix socket)")
    parser.add_argument("--token-file", default=None,
                        help="a file holding the daemon's token (needed for TCP addresses)")
    parser.add_argument("--reconnect-max", type=float, default=2.0, metavar="SECONDS",
                        help="the longest wait between reconnection attempts (default 2)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from pushkin.clients import bridge

    address = args.address or bridge.default_address()
    token_file = args.token_file
    if not token_file and address.startswith("tcp://"):
        # A TCP daemon keeps its token here unless told otherwise (Unix sockets need none).
        config = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
        default = os.path.join(config, "pushkin", "token")
        token_file = default if os.path.exists(default) else None
    token = os.environ.get("PUSHKIN_TOKEN", "")
    if token_file:
        try:
            with open(token_file, encoding="utf-8") as handle:
                token = handle.read().strip()
        except OSError as exc:
            print(f"pushkin bridge: cannot read the token file: {exc}", file=sys.stderr)
            return 2
    options = bridge.BridgeOptions(
        address=address,
        token=token,
        reconnect_max_s=max(0.05, args.reconnect_max),
    )
    return asyncio.run(bridge.run_stdio(options))

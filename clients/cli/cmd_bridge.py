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
                        help="the daemon's address: unix:///path/to.sock or tcp://HOST:PORT "
                        "(default: $PUSHKIN_ADDRESS, else the daemon's default Unix socket)")
    parser.add_argument("--token-file", default=None,
                        help="a file holding the daemon's token (needed for TCP addresses)")
    parser.add_argument("--reconnect-max", type=float, default=2.0, metavar="SECONDS",
                        help="the longest wait between reconnection attempts (default 2)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from pushkin.clients import bridge
    from pushkin.clients.connection import resolve_address, resolve_token
    from pushkin.proto.endpoint import AddressError

    try:
        address = resolve_address(args.address)
        # --token-file, else $PUSHKIN_TOKEN, else (TCP only) the daemon's default token file.
        if args.token_file:
            token = resolve_token(address, token_file=args.token_file)
        else:
            token = resolve_token(address, os.environ.get("PUSHKIN_TOKEN") or None)
    except (AddressError, OSError, ValueError) as exc:
        print(f"pushkin bridge: {exc}", file=sys.stderr)
        return 2
    options = bridge.BridgeOptions(address=address, token=token, reconnect_max_s=max(0.05, args.reconnect_max))
    return asyncio.run(bridge.run_stdio(options))

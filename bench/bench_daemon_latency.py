"""Daemon overhead: an utterance in -> the edit applied at the editor, over a Unix socket.

The daemon runs as a real subprocess (`pushkin serve`, the placeholder planner, no model). This process
connects N editors (one focused), sends 1,000 utterances one after another with SendUtterance, and times
each from just before the call to the moment the focused editor has applied the batch (before it answers),
and to the end of the call (after the editor's answer came back to the daemon). Prints p50/p99 for 1 and
20 connected editors. Target on a 2-core machine: p50 <= 2 ms, p99 <= 10 ms.

    .venv/bin/python bench/bench_daemon_latency.py [--utterances 1000] [--editors 1 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from figures import percentile, start_daemon  # noqa: E402  (bench/ is the script's folder)

from pushkin.clients.buffer import EditorBuffer
from pushkin.clients.daemon_client import DaemonClient
from pushkin.clients.editor import EditorClient, ReconnectPolicy


async def measure(address: str, editors: int, utterances: int) -> tuple[list[float], list[float]]:
    applied_at: list[float] = []

    def apply(buffer: EditorBuffer, batch):
        result = buffer.apply_batch(batch)
        applied_at.append(time.perf_counter())
        return result

    clients = []
    for index in range(editors):
        focused = index == editors - 1
        client = EditorClient(address, editor_name=f"bench{index}", apply=apply if focused else None,
                              reconnect=ReconnectPolicy(enabled=False))
        await client.start()
        await client.open(EditorBuffer(f"doc{index}", text="Start. "), focus=focused)
        clients.append(client)
    to_editor, round_trip = [], []
    async with DaemonClient(address) as daemon:
        for warmup in range(50):
            await daemon.say(f"warm {warmup} ")
        for index in range(utterances):
            applied_at.clear()
            started = time.perf_counter()
            result = await daemon.say(f"word {index} ")
            finished = time.perf_counter()
            if not result.applied or len(applied_at) != 1:
                raise RuntimeError(f"utterance {index} was not applied: {result.message}")
            to_editor.append((applied_at[0] - started) * 1000)
            round_trip.append((finished - started) * 1000)
    for client in clients:
        await client.close()
    return to_editor, round_trip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=1000)
    parser.add_argument("--editors", type=int, nargs="+", default=[1, 20])
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pk-bench-"))
    daemon, socket_path = start_daemon(folder, "bench")
    try:
        print(f"daemon overhead, Unix socket, {args.utterances} utterances each, {os.cpu_count()} CPUs")
        print(f"{'editors':>8} {'to editor p50':>14} {'p99':>8} {'round trip p50':>15} {'p99':>8}   (ms)")
        for editors in args.editors:
            to_editor, round_trip = asyncio.run(measure(f"unix://{socket_path}", editors, args.utterances))
            print(f"{editors:>8} {statistics.median(to_editor):>14.3f} {percentile(to_editor, 99):>8.3f} "
                  f"{statistics.median(round_trip):>15.3f} {percentile(round_trip, 99):>8.3f}", flush=True)
        print("target: to editor p50 <= 2 ms, p99 <= 10 ms", flush=True)
    finally:
        daemon.terminate()
        daemon.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

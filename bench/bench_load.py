"""Daemon load: many editors and documents, and a steady editor while clients connect and disconnect.

The daemon runs as a real subprocess (`pushkin serve`, the placeholder planner, no model, Unix socket).

1. 100 editors × 5 documents each are connected; utterances arrive open-loop at 20 per second, each aimed
   at a random one of the 500 documents (SendUtterance with its document_id). Prints the round trip p50/p99
   (the call, the batch at the editor, its answer back), the daemon's CPU (% of one core) and its RSS.
2. One steady editor gets 20 utterances per second while another process, three times over, churns 1,000
   editors: "cycle" (each connects, opens a document and disconnects, 25 at a time), then "burst" (all
   1,000 connect and stay, then all disconnect at once). Prints the steady editor's p50/p99 during the churn
   (the goal: p99 <= 50 ms).

Prints the machine's load average before and after: on a shared machine the figures move with it.

    .venv/bin/python bench/bench_load.py [--seconds 20] [--editors 100] [--documents 5] [--rate 20] [--churn 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from figures import percentile, start_daemon  # noqa: E402  (bench/ is the script's folder)

from pushkin.clients.buffer import EditorBuffer
from pushkin.clients.daemon_client import DaemonClient
from pushkin.clients.editor import EditorClient, ReconnectPolicy

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessSample:
    cpu_s: float  # user + system time so far
    rss_mib: float
    at: float  # time.monotonic()


def sample(pid: int) -> ProcessSample:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14 and 15 of stat)
    rss_kib = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("VmRSS:"))
    return ProcessSample(cpu_s, rss_kib / 1024, time.monotonic())


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"machine load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


async def open_loop(client: DaemonClient, seconds: float, rate: float, pick_document) -> tuple[list[float], int]:
    """Send ``rate`` utterances a second for ``seconds``, each on schedule whether or not the previous ended;
    returns the round trips (ms) and how many were not applied."""
    latencies: list[float] = []
    failures = 0

    async def one(index: int) -> None:
        nonlocal failures
        started = time.perf_counter()
        result = await client.say(f"w{index} ", document_id=pick_document(index))
        latencies.append((time.perf_counter() - started) * 1000)
        failures += not result.applied

    tasks = []
    begin = time.monotonic()
    for index in range(int(seconds * rate)):
        delay = begin + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index)))
    await asyncio.gather(*tasks)
    return latencies, failures


async def many_editors(address: str, pid: int, editors: int, documents: int, seconds: float, rate: float) -> None:
    clients = []
    ids = []
    for e in range(editors):
        client = EditorClient(address, editor_name=f"load{e}", reconnect=ReconnectPolicy(enabled=False))
        await client.start()
        for d in range(documents):
            ids.append(f"e{e}-d{d}")
            await client.open(EditorBuffer(ids[-1], text="Start. "), focus=False)
        clients.append(client)
    chooser = random.Random(11)
    async with DaemonClient(address) as daemon:
        await open_loop(daemon, 1.0, rate, lambda i: chooser.choice(ids))  # warm up
        before = sample(pid)
        latencies, failures = await open_loop(daemon, seconds, rate, lambda i: chooser.choice(ids))
        after = sample(pid)
    cpu = (after.cpu_s - before.cpu_s) / (after.at - before.at) * 100
    print(f"{editors} editors x {documents} documents, {rate:g} utterances/s for {seconds:g} s: "
          f"p50 {statistics.median(latencies):.2f} ms, p99 {percentile(latencies, 99):.2f} ms, "
          f"max {max(latencies):.2f} ms, {failures} not applied; daemon CPU {cpu:.1f} % of a core, "
          f"RSS {after.rss_mib:.1f} MiB", flush=True)
    await asyncio.gather(*(client.close() for client in clients))


class ChurnMode:
    CYCLE = "cycle"  # each client connects, opens a document and disconnects; 25 clients at a time
    BURST = "burst"  # all clients connect (25 at a time) and stay, then all disconnect at once


async def churn_worker(address: str, total: int, parallel: int, rounds: int, mode: str) -> None:
    """``rounds`` times, ``total`` editors connect, open a document and disconnect, as ``mode`` says (run in
    its own process, so that its work is not the steady client's)."""
    began = time.monotonic()
    for _ in range(rounds):
        remaining = iter(range(total))
        held: list[EditorClient] = []

        async def lane() -> None:
            for index in remaining:
                client = EditorClient(address, editor_name=f"churn{index}", reconnect=ReconnectPolicy(enabled=False))
                await client.start()
                await client.open(EditorBuffer(f"churn{index}", text="x"), focus=False)
                if mode == ChurnMode.BURST:
                    held.append(client)
                else:
                    await client.close()

        await asyncio.gather(*(lane() for _ in range(parallel)))
        await asyncio.gather(*(client.close() for client in held))
    print(f"churn ({mode}): {rounds} x {total} editors connected and disconnected in "
          f"{time.monotonic() - began:.1f} s", flush=True)


async def steady_during_churn(address: str, pid: int, total: int, rounds: int, rate: float, mode: str) -> None:
    steady = EditorClient(address, editor_name="steady", reconnect=ReconnectPolicy(enabled=False))
    await steady.start()
    await steady.open(EditorBuffer("steady", text="Start. "), focus=True)
    async with DaemonClient(address) as daemon:
        await open_loop(daemon, 1.0, rate, lambda i: "steady")  # warm up
        before = sample(pid)
        churn = await asyncio.create_subprocess_exec(sys.executable, __file__, "--churn-worker", address,
                                                     "--churn", str(total), "--churn-rounds", str(rounds),
                                                     "--churn-mode", mode)
        latencies: list[float] = []
        failures = 0
        while churn.returncode is None:
            batch, failed = await open_loop(daemon, 1.0, rate, lambda i: "steady")
            latencies += batch
            failures += failed
            try:
                await asyncio.wait_for(churn.wait(), 0.001)
            except TimeoutError:
                pass
        after = sample(pid)
    cpu = (after.cpu_s - before.cpu_s) / (after.at - before.at) * 100
    print(f"steady editor at {rate:g} utterances/s during the {mode} churn: "
          f"p50 {statistics.median(latencies):.2f} ms, p99 {percentile(latencies, 99):.2f} ms, "
          f"max {max(latencies):.2f} ms over {len(latencies)} utterances, {failures} not applied; daemon CPU "
          f"{cpu:.1f} % of a core, RSS {after.rss_mib:.1f} MiB (goal: p99 <= 50 ms)", flush=True)
    await steady.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--editors", type=int, default=100)
    parser.add_argument("--documents", type=int, default=5)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--churn", type=int, default=1000)
    parser.add_argument("--churn-rounds", type=int, default=3)
    parser.add_argument("--churn-mode", choices=[ChurnMode.CYCLE, ChurnMode.BURST], nargs="+",
                        default=[ChurnMode.CYCLE, ChurnMode.BURST])
    parser.add_argument("--churn-worker", metavar="ADDRESS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.churn_worker:
        asyncio.run(churn_worker(args.churn_worker, args.churn, 25, args.churn_rounds, args.churn_mode[0]))
        return 0
    folder = Path(tempfile.mkdtemp(prefix="pk-load-"))
    daemon, socket_path = start_daemon(folder, "load")
    try:
        address = f"unix://{socket_path}"
        print(f"daemon load, Unix socket; {load_line()}", flush=True)
        asyncio.run(many_editors(address, daemon.pid, args.editors, args.documents, args.seconds, args.rate))
        for mode in args.churn_mode:
            asyncio.run(steady_during_churn(address, daemon.pid, args.churn, args.churn_rounds, args.rate, mode))
        print(f"after: {load_line()}", flush=True)
    finally:
        daemon.terminate()
        daemon.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

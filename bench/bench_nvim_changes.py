"""What one buffer change costs in a 1 MB Neovim buffer: the plugin now vs. the plugin at another revision.

For each plugin (this checkout, and `--before-rev` extracted from git) it starts `pushkin serve` and a
headless Neovim with that plugin (which spawns `pushkin bridge --stdio`), loads a ~1 MB buffer of mixed
English and Russian prose, and makes single-character changes at spread-out lines, one at a time.
Printed per change:
  - editor: the time Neovim's main loop spends on the change and the plugin's reaction to it (the change,
    on_lines, the scheduled flush up to the bytes written to the bridge's pipe), p50/p99;
  - CPU: Neovim + bridge + daemon CPU time (from /proc) over the run, divided by the changes, after all
    three went idle;
  - bytes: what the plugin wrote to the bridge per change.
At the end a dictation checks that the daemon's copy equals the buffer.

    .venv/bin/python bench/bench_nvim_changes.py [--changes 100] [--before-rev 32668bc]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "plugins"))

from figures import percentile  # noqa: E402  (bench/ is the script's folder)
from plugin_harness import NVIM_PLUGIN, DaemonProcess, Neovim, short_tmpdir  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(p) for p in (task / "children").read_text().split()]
    return out


def descendants(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        found += [child, *descendants(child)]
    return found


def wait_idle(pids: list[int], quiet_s: float = 0.5, limit_s: float = 120.0) -> None:
    """Until none of ``pids`` used CPU for ``quiet_s`` (the bridge and the daemon caught up)."""
    deadline = time.monotonic() + limit_s
    last = sum(cpu_s(p) for p in pids)
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = sum(cpu_s(p) for p in pids)
        if now == last:
            return
        last = now


def extract_plugin(rev: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="pk-nvim-plugin-"))
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "clients/nvim"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "clients" / "nvim"


def one_mb_of_lines() -> list[str]:
    sentences = ["The quick brown fox jumps over the lazy dog, twice.", "Шла Саша по шоссе и сосала сушку.",
                 "Мороз и солнце; день чудесный!", "A writer keeps every draft until the end."]
    lines, size, i = [], 0, 0
    while size < 1_000_000:
        line = f"{i}: " + " ".join(sentences[(i + k) % len(sentences)] for k in range(2))
        lines.append(line)
        size += len(line.encode("utf-8")) + 1
        i += 1
    return lines


def measure(plugin: Path, changes: int, label: str) -> dict:
    daemon = DaemonProcess(short_tmpdir())
    daemon.start()
    log = daemon.folder / "bridge-in.jsonl"
    bridge = f"tee {log} | {sys.executable} -m pushkin.clients.cli bridge --stdio"
    editor = Neovim(daemon, bridge_cmd=["sh", "-c", bridge], plugin_dir=plugin)
    try:
        editor.wait_connected()
        lines = one_mb_of_lines()
        editor.nvim.current.buffer[:] = lines
        editor.settle()
        nvim_pid = editor.lua("return vim.fn.getpid()")
        pids = [nvim_pid, *descendants(nvim_pid), daemon.process.pid]
        wait_idle(pids)
        editor.lua("""
            _G.bench_change = function(row, col, s)
              local done = false
              local t0 = vim.loop.hrtime()
              vim.api.nvim_buf_set_text(0, row, col, row, col, { s })
              vim.schedule(function() done = true end)  -- runs after the plugin's scheduled flush
              vim.wait(10000, function() return done end, 1)
              return (vim.loop.hrtime() - t0) / 1e6
            end
        """)
        sent_before = log.stat().st_size
        cpu_before = sum(cpu_s(p) for p in pids)
        started = time.monotonic()
        editor_ms = []
        for i in range(changes):
            row = (i * 7919) % len(lines)
            editor_ms.append(editor.lua("return _G.bench_change(...)", row, 3, "ж" if i % 2 else "x"))
        wait_idle(pids)
        elapsed = time.monotonic() - started
        cpu_ms = (sum(cpu_s(p) for p in pids) - cpu_before) * 1000 / changes
        bytes_per_change = (log.stat().st_size - sent_before) / changes
        editor.nvim.command("normal! G$")
        editor.settle()
        response = daemon.say("the end")
        in_sync = response.applied and response.final_text == editor.text()
        size = len(editor.text().encode("utf-8"))
    finally:
        editor.close()
        daemon.stop()
    return {"label": label, "editor_ms": editor_ms, "cpu_ms": cpu_ms, "bytes": bytes_per_change,
            "elapsed": elapsed, "in_sync": in_sync, "size": size, "changes": changes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--before-changes", type=int, default=30, help="changes for the old plugin (each sends ~1 MB)")
    parser.add_argument("--before-rev", default="32668bc", help="git revision of the plugin to compare with ('' to skip)")
    args = parser.parse_args(argv)

    results = []
    if args.before_rev:
        results.append(measure(extract_plugin(args.before_rev), args.before_changes, f"before ({args.before_rev})"))
    results.append(measure(NVIM_PLUGIN, args.changes, "now (this checkout)"))
    load = os.getloadavg()
    print(f"bench_nvim_changes: one single-character change in a {results[-1]['size'] / 1e6:.2f} MB Neovim buffer "
          f"(nvim + bridge + pushkin serve; {os.cpu_count()} CPUs, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
    for r in results:
        ms = r["editor_ms"]
        print(f"  {r['label']}: editor p50 {statistics.median(ms):.2f} ms, p99 {percentile(ms, 99):.2f} ms; "
              f"CPU {r['cpu_ms']:.2f} ms/change (all three processes); {r['bytes']:.0f} bytes/change to the bridge; "
              f"daemon copy {'in sync' if r['in_sync'] else 'NOT in sync'} (n={r['changes']}, {r['elapsed']:.1f} s)")
    return 0 if all(r["in_sync"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

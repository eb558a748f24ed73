"""What the benchmarks share: one percentile rule, so figures from different benchmarks compare."""

from __future__ import annotations


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by nearest rank over ``len(values) - 1`` steps: p0 is the minimum,
    p100 the maximum."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def start_daemon(folder, name: str):
    """``pushkin serve`` on a Unix socket in ``folder`` (no microphone, no recognizer preload), started and
    listening; returns the process and the socket's path. The caller stops it."""
    import os
    import subprocess
    import sys
    import time

    socket_path = folder / f"{name}.sock"
    daemon = subprocess.Popen([sys.executable, "-m", "pushkin.clients.cli", "serve", "--socket", str(socket_path),
                               "--no-mic", "--set", "hearing.preload=false"],
                              env={**os.environ, "XDG_CONFIG_HOME": str(folder)})
    deadline = time.monotonic() + 15
    while not socket_path.exists():
        if time.monotonic() > deadline or daemon.poll() is not None:
            daemon.kill()
            raise RuntimeError("the daemon did not start")
        time.sleep(0.02)
    return daemon, socket_path

"""What the benchmarks share: one percentile rule and one word edit distance, so figures from different
benchmarks compare; the machine's load; the real Gemma GGUF's options and link."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


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


def word_edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Words inserted, deleted or substituted to turn ``reference`` into ``hypothesis`` (for WER)."""
    previous = list(range(len(hypothesis) + 1))
    for i, r in enumerate(reference, 1):
        current = [i] + [0] * len(hypothesis)
        for j, h in enumerate(hypothesis, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1]


def load_average() -> str:
    """The machine's load, printed beside timings: other work on a 2-core machine moves them a lot."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) {five:.1f} (5 min) on {os.cpu_count()} cores"


def add_real_gemma_arguments(parser, *, tokens: int, repeats: int) -> None:
    """The options of a benchmark on the real Gemma 3 270M GGUF (``pushkin models fetch gemma-3-270m``)."""
    models = Path(os.environ.get("PUSHKIN_MODELS_DIR", "~/.local/share/pushkin/models")).expanduser()
    parser.add_argument("--gguf", default=str(models / "gemma-3-270m" / "gemma-3-270m-q4_k_m.gguf"))
    parser.add_argument("--work", default="", help="folder for the GGUF's link, its conversion and the adapters "
                                                   "(default: a temp folder)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=tokens)
    parser.add_argument("--repeats", type=int, default=repeats)
    parser.add_argument("--rank", type=int, default=16)


def linked_gguf(gguf: str, work: str, prefix: str) -> Path | None:
    """``gguf`` linked into ``work`` (a temp folder when empty), so its conversion is written there and never
    beside the models folder's copy; None (said on stderr) when the file is missing."""
    source = Path(gguf)
    if not source.is_file():
        print(f"no GGUF at {source}: run `pushkin models fetch gemma-3-270m` or pass --gguf", file=sys.stderr)
        return None
    folder = Path(work or tempfile.mkdtemp(prefix=prefix))
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / source.name
    if not link.exists():
        link.symlink_to(source.resolve())
    return link

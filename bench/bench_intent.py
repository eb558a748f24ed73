"""Intent + plan for one utterance on a 1 MB document: p50/p99 per command class (target p99 <= 1 ms).

Run: .venv/bin/python bench/bench_intent.py [--size-mb 1] [--repeats 2000]

The document mixes English and Russian sentences, lines and paragraphs; the cursor sits in the middle.
``plan`` changes no state, so each utterance is planned repeatedly against the same snapshot. The cost of
``applied`` (carrying the history through the edits) is printed too, for information. Besides wall-clock
time, the thread's CPU time per plan is printed: on a shared machine the wall-clock tail is mostly the
scheduler running someone else.
"""

from __future__ import annotations

import argparse
import statistics
import time

from figures import percentile  # noqa: E402  (bench/ is the script's folder)

from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.planning import DocumentSnapshot, Modes, Utterance
from pushkin.proto.textedit import apply_edits
from pushkin.proto.types import Selection

CLASSES = {
    "dictation": ["and then we walked home", "Hello, world.", "и тогда мы пошли домой"],
    "spoken punctuation": ["comma", "new paragraph", "he said open quote hi close quote period"],
    "words": ["select the last 3 words", "delete the previous word", "move left 2 words", "backspace 4"],
    "sentence/paragraph/line": ["select this sentence", "delete the last sentence", "select this paragraph",
                                "delete this line", "go to end of paragraph"],
    "document words (near)": ["select quiet", "replace quiet with calm", "insert after river"],
    "document words (absent)": ["replace zebra with horse", "select zebra"],  # the whole search window read
    "that / undo": ["scratch that", "delete that", "cap that", "undo", "redo"],
    "modes / navigation": ["go to sleep", "go to start", "select all", "command mode"],
    "language model": ["rephrase that", "перефразируй это"],
    "russian commands": ["удали это", "выдели последние два слова", "отмени"],
    "false triggers": ["I told him to delete that file.", "Scratch that itch."],
}

SENTENCES = [
    "The river ran quiet under the old bridge.", "Nobody knew where the road would end!",
    "Река текла тихо под старым мостом.", "Никто не знал, где кончится дорога?",
    "She wrote three letters and burned two of them.", "Он писал по ночам, при свече.",
]


def make_document(size: int) -> str:
    parts = []
    length = 0
    index = 0
    while length < size:
        sentence = SENTENCES[index % len(SENTENCES)]
        separator = "\n\n" if index % 17 == 16 else ("\n" if index % 7 == 6 else " ")
        parts.append(sentence + separator)
        length += len(sentence) + len(separator)
        index += 1
    return "".join(parts)[:size]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=2000)
    options = parser.parse_args()

    text = make_document(int(options.size_mb * 1_000_000))
    cursor = len(text) // 2
    cursor = text.index(" ", cursor) + 1  # at a word start, mid-document
    engine = IntentEngine()
    modes = Modes()
    version = 1
    # A little voice history near the cursor, so "that", scratch and undo have something to act on.
    for spoken in ("the quiet river", "comma", "and the night"):
        snapshot = DocumentSnapshot("bench", text, version, Selection.cursor(cursor))
        plan = engine.plan(Utterance(spoken), snapshot, modes)
        text = apply_edits(text, plan.edits)
        version += 1
        cursor = plan.selection_after.active
        engine.applied(snapshot, plan, version)
    snapshot = DocumentSnapshot("bench", text, version, Selection.cursor(cursor))

    print(f"document: {len(text):,} code points, cursor at {cursor:,}; {options.repeats} plans per utterance")
    print(f"{'class':28s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s} {'cpu p99':>8s}")
    worst_p99 = worst_cpu_p99 = 0.0
    for name, utterances in CLASSES.items():
        timings = []
        cpu_timings = []
        for spoken in utterances:
            utterance = Utterance(spoken)
            engine.plan(utterance, snapshot, modes)  # warm caches (regex compile) outside the timing
            for _ in range(options.repeats // len(utterances)):
                started_cpu = time.thread_time_ns()
                started = time.perf_counter()
                engine.plan(utterance, snapshot, modes)
                timings.append((time.perf_counter() - started) * 1000)
                cpu_timings.append((time.thread_time_ns() - started_cpu) / 1e6)
        p99 = percentile(timings, 99)
        worst_p99 = max(worst_p99, p99)
        worst_cpu_p99 = max(worst_cpu_p99, percentile(cpu_timings, 99))
        print(f"{name:28s} {statistics.median(timings):8.3f} {p99:8.3f} {max(timings):8.3f} {percentile(cpu_timings, 99):8.3f}")

    # applied(): carrying a full history (100 phrases, 100 undo steps) through one edit.
    applied_timings = []
    for _ in range(300):
        current = DocumentSnapshot("bench", text, version, Selection.cursor(cursor))
        plan = engine.plan(Utterance("word"), current, modes)
        started = time.perf_counter()
        engine.applied(current, plan, version + 1)
        applied_timings.append((time.perf_counter() - started) * 1000)
        text = apply_edits(text, plan.edits)  # the simulated editor's cost, not timed
        version += 1
        cursor = plan.selection_after.active
    print(f"{'applied (full history)':28s} {statistics.median(applied_timings):8.3f} {percentile(applied_timings, 99):8.3f}"
          f" {max(applied_timings):8.3f}")
    print(f"worst plan p99: wall {worst_p99:.3f} ms ({'OK' if worst_p99 <= 1.0 else 'OVER'}), "
          f"cpu {worst_cpu_p99:.3f} ms ({'OK' if worst_cpu_p99 <= 1.0 else 'OVER'}); target <= 1 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

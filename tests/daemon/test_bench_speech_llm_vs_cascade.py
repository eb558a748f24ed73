"""The scoring and the harness of bench/bench_speech_llm_vs_cascade.py (no real weights: a fake recognizer
and a fake speech-LLM reader)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from pushkin.model.output_language import OutputLanguageError, parse_output_line
from pushkin.model.speech import SpeechOutput

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH_DIR))  # the bench imports its neighbour figures.py
    try:
        spec = importlib.util.spec_from_file_location("bench_speech_llm_vs_cascade",
                                                      BENCH_DIR / "bench_speech_llm_vs_cascade.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCH_DIR))
        sys.modules.pop("bench_speech_llm_vs_cascade", None)


def test_scores(bench):
    assert bench.word_errors("Hello, world.", "hello world") == (0, 2)
    assert bench.word_errors("Hello, world.", "hello comma world") == (0, 2)  # a spoken mark is the mark
    assert bench.word_errors("a b c", "a x c d") == (2, 3)
    assert bench.same_command(("replace", {"x": "Monday", "y": "Friday"}), ("replace", {"x": "monday.", "y": "Friday"}))
    assert not bench.same_command(("replace", {"x": "Monday", "y": "Friday"}), ("replace", {"x": "Monday", "y": "May"}))
    assert not bench.same_command(("undo", {}), None) and not bench.same_command(None, None)
    assert bench.voice_family("espeak-ng:en-us+m6:s0.92:p+2.5") == "espeak-ng:en-us"
    assert bench.voice_family("espeak-ng:ru+m4:s0.92:p+2.5") == "espeak-ng:ru"
    assert bench.voice_family("piper:joe:s1.0") == "piper"
    dictated = bench.ClipResult("en", "piper", None, None, "hello there", "hello their", 0.2)
    fired = bench.ClipResult("en", "piper", None, ("undo", {}), "undo the change", "", 0.4)
    right = bench.ClipResult("ru", "espeak-ng:ru", ("undo", {}), ("undo", {}), "", "", 0.3)
    wrong_args = bench.ClipResult("ru", "espeak-ng:ru", ("go_to", {"where": "end"}), ("go_to", {"where": "start"}),
                                  "", "", 0.5, refused=True)
    missed = bench.ClipResult("en", "piper", ("undo", {}), None, "", "undo", 1.0)
    summary = bench.summarize([dictated, fired, right, wrong_args, missed])
    assert summary.clips == 5 and summary.classification_accuracy == 0.6  # fired and missed are wrong
    assert summary.command_exact == round(1 / 3, 4) and summary.commands == 3
    assert summary.commands_fired_on_dictation == 1 and summary.dictations == 2
    assert summary.dictation_wer == 0.5  # only dictation typed as dictation is scored for WER
    assert summary.latency_median_s == 0.4 and summary.refused == 1
    assert summary.groups["language=ru"]["command_exact"] == 0.5
    assert summary.groups["voice_family=piper"]["clips"] == 3


class _Recognizer:
    """Hears each clip as the words its first sample indexes."""

    def __init__(self, heard: list[str]):
        self.heard = heard

    def transcribe(self, audio, *, final=True):
        from types import SimpleNamespace

        return SimpleNamespace(text=self.heard[int(audio[0])])


class _Reader:
    def __init__(self, lines: list[str]):
        self.lines = lines

    def hear(self, pieces):
        raw = self.lines[int(pieces[0][0])]
        try:
            return SpeechOutput(parse_output_line(raw), raw)
        except OutputLanguageError as error:
            return SpeechOutput(None, raw, rejected=str(error))


def test_the_harness_runs_both_front_ends_over_a_manifest(bench):
    import numpy as np

    records = [
        {"text": "The car was red.", "kind": "dictation", "language": "en", "voice": "piper:joe"},
        {"text": "replace Anna with Peter", "kind": "command", "language": "en", "voice": "piper:joe"},
        {"text": "um, delete the last three words", "kind": "command", "language": "en", "voice": "espeak-ng:en-us+m2"},
        {"text": "accept", "kind": "command", "language": "en", "voice": "piper:joe"},
    ]
    audio = {i: np.full(160, i, np.float32) for i in range(len(records))}
    load = lambda record: audio[records.index(record)]  # noqa: E731
    cascade = bench.cascade_decider(_Recognizer(["The car was bread.", "Replace Anna with Peter.",
                                                 "Delete the last two words.", "Accept."]))
    heard = bench.summarize(bench.run(records, cascade, load))
    assert (heard.classification_accuracy, heard.command_exact, heard.dictation_wer) == (1.0, round(2 / 3, 4), 0.25)
    llm = bench.speech_llm_decider(_Reader(["dictate: The car was red.", 'command: replace x="Anna" y="Peter"',
                                            "Sure! Deleting three words.", "command: accept"]), cascade)
    decided = bench.summarize(bench.run(records, llm, load))
    assert decided.refused == 1  # the third line is outside the language: the cascade decided it
    assert (decided.command_exact, decided.dictation_wer, decided.commands_fired_on_dictation) == (round(2 / 3, 4), 0.0, 0)

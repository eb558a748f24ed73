"""A smoke subset of the spoken-session benchmark (bench/bench_speech_sessions.py): real `pushkin serve`
with Whisper base, speech streamed in real time through StreamAudio, a real editor client; each session
must end with exactly the expected document and no command may fire inside dictation."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_speech_sessions.py"
SMOKE = ("en-piper-02", "en-piper-10", "en-piper-13", "ru-festival-03")


def _bench():
    if str(BENCH.parent) not in sys.path:
        sys.path.insert(0, str(BENCH.parent))  # as when run as a script: its folder's modules (figures) import
    spec = importlib.util.spec_from_file_location("bench_speech_sessions", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def test_spoken_sessions_end_exactly_as_expected(whisper_base, piper_voice):
    bench = _bench()
    sessions = [s for s in bench.load_sessions() if s["id"] in SMOKE]
    assert len(sessions) == len(SMOKE)
    results = asyncio.run(bench.run_model(whisper_base, sessions, piper_voice.parent.parent, 1.0, [], False))
    for outcome in results:
        heard = [(u.heard, u.decided) for u in outcome.utterances]
        assert outcome.final_text == outcome.session["expected"], (outcome.session["id"], outcome.final_text, heard)
        for utterance in outcome.utterances:
            if not utterance.expected_command:
                assert all(kind == "dictation" for kind, _ in utterance.decided), (outcome.session["id"], heard)
            else:
                assert utterance.decided == [("command", utterance.expected_command)], (outcome.session["id"], heard)
            assert utterance.languages and set(utterance.languages) == {outcome.session["language"]}

"""Issue 13's text-level items on what a real recognizer writes: the Piper voice, Whisper base, the engine.

Each utterance is spoken by the Piper voice, transcribed by Whisper base (int8, greedy, English, the whole
clip) and planned as speech against a simulated editor, the way the daemon plans a final transcript. Only
sessions whose words Whisper base hears right are here: the point is what the engine makes of Whisper's
own capitals and punctuation (its period before a spoken mark, a sentence that starts like a command), not
how well the recognizer hears (that is the hearing side's benchmark).
"""

from __future__ import annotations

import wave

import pytest

from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.intent.offline import SimulatedEditor
from pushkin.daemon.planning import Modes, Utterance
from pushkin.proto.types import Selection

# A sentence that must be dictated as Whisper wrote it, whatever words Whisper heard (its words can differ
# by a word between processes: "before a winter"): the engine's part is not to take it for a command.
DICTATED = None

SESSIONS = [
    # (what the voice says, one utterance after another; the document a careful editor expects)
    (["Did you see the slides?", "Question mark."], "Did you see the slides?"),
    (["The trial period ends in May."], DICTATED),
    (["Type your name in the first box."], DICTATED),
    (["Thanks for the update.", "Um, scratch that."], ""),
    (["Replace the old tires with new ones before winter."], DICTATED),  # a replace whose X is absent
]


@pytest.fixture(scope="module")
def hear(whisper_base, piper_voice, tmp_path_factory):
    try:
        import piper
    except ImportError:
        pytest.fail("piper-tts is not installed: pip install 'lil-pushkin[test]' (or its wheel from the package cache)")
    from faster_whisper import WhisperModel

    voice = piper.PiperVoice.load(str(piper_voice))
    model = WhisperModel(str(whisper_base), device="cpu", compute_type="int8", cpu_threads=2)
    folder = tmp_path_factory.mktemp("speech")

    def transcribe(text: str) -> str:
        path = folder / "utterance.wav"
        with wave.open(str(path), "wb") as file:
            voice.synthesize_wav(text, file)
        segments, _ = model.transcribe(str(path), language="en", beam_size=1, vad_filter=False,
                                       condition_on_previous_text=False)
        return " ".join(segment.text.strip() for segment in segments)

    return transcribe


@pytest.mark.parametrize("said, expected", SESSIONS, ids=[" + ".join(s[0]) for s in SESSIONS])
def test_the_engine_writes_what_a_careful_editor_expects_from_real_transcripts(hear, said, expected):
    engine = IntentEngine()
    editor = SimulatedEditor("doc", "", Selection.cursor(0))
    heard = []
    for text in said:
        transcript = hear(text)
        heard.append(transcript)
        snapshot = editor.snapshot()
        plan = engine.plan(Utterance(transcript, source="speech", language="en"), snapshot, Modes())
        editor.apply(plan)
        engine.applied(snapshot, plan, editor.version)
    if expected is DICTATED:
        assert len(heard) == 1 and heard[0].lower().split()[:2] == said[0].lower().split()[:2], f"Whisper heard {heard}"
        expected = heard[0][:1].upper() + heard[0][1:]  # a sentence at the document's start gets its capital
    assert editor.text == expected, f"Whisper heard {heard}"

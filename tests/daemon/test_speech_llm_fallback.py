"""The speech-LLM front end falls back to the recognizer's transcript when its answer is unusable.

A real daemon with the intent engine, a real :class:`SpeechLLMDecoder`, and two stand-ins: the speech-LLM
answers a fixed output-language line, and the recognizer (the cascade) a fixed text. Each case is compared
with the same audio heard by the cascade alone: "as if the speech-LLM had not been there".
"""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from pushkin.clients.daemon_client import DaemonClient
from pushkin.daemon.core import DaemonCore
from pushkin.daemon.hearing.front_end import CascadeDecoder, final_transcript
from pushkin.daemon.hearing.recognizer import Recognition
from pushkin.daemon.hearing.vad import SegmentedUtterance, SpeechAudio
from pushkin.daemon.hearing_api import SpeechEnded, SpeechStarted
from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.model_planner import ModelPlanner
from pushkin.daemon.planning import DocumentSnapshot, Modes, Utterance
from pushkin.daemon.server import Daemon
from pushkin.daemon.settings import Settings
from pushkin.daemon.speech_llm import SpeechLLMDecoder
from pushkin.model.output_language import OutputLanguageError, parse_output_line
from pushkin.model.speech import SpeechOutput
from pushkin.model.worker import ModelWorker
from pushkin.proto.types import AudioStart, Hello, IntentKind, OpenDocument, Selection, UtteranceDecided

from .conftest import connect_editor, unix_settings
from .test_core_wiring import FakeRewriter, GrammarForRewrites

SECOND = 16000


class FixedAnswer:
    """The speech-LLM stand-in: answers ``line`` (parsed as SpeechLLM.hear does); ``stall`` waits for the
    cancel event instead (a runaway decode); ``failure`` is raised (a model error)."""

    def __init__(self, line: str, *, stall: bool = False, failure: Exception | None = None):
        self.line, self.stall, self.failure = line, stall, failure
        self.asked = 0

    def hear(self, pieces, cancel=None, max_new_tokens=96):
        self.asked += 1
        if self.failure is not None:
            raise self.failure
        if self.stall:
            assert cancel is not None and cancel.wait(5.0), "the decoder never cancelled the stalled decode"
            return SpeechOutput(None, self.line, cancelled=True)
        try:
            return SpeechOutput(parse_output_line(self.line), self.line)
        except OutputLanguageError as error:
            return SpeechOutput(None, self.line, rejected=str(error))


class OneSecondUtterances:
    """A small Hearing: each second of audio is one utterance, decided by ``decoder``; the recognizer (the
    cascade) hears the next of ``heard`` for it."""

    def __init__(self, decoder, heard: list[str]):
        self.decoder = decoder
        self.heard = list(heard)

    async def stream(self, pcm, *, language=""):
        index = 0
        async for chunk in pcm:
            samples = np.frombuffer(chunk, np.int16)
            start = float(index)
            utterance = SegmentedUtterance(index, samples, start, start, start + 1, (SpeechAudio(samples, start),),
                                           0.5, 0.5, 1.0)
            uid = f"t{index}"
            text = self.heard[index]
            index += 1

            async def cascade(uid=uid, utterance=utterance, text=text):
                return [final_transcript(uid, utterance, Recognition(text, "en"))]

            yield SpeechStarted(uid, start)
            yield SpeechEnded(uid, start + 1)
            for event in await self.decoder.decode(uid, utterance, cascade):
                yield event


async def _heard(short_dir, decoder, heard: list[str], text: str):
    """The document after each utterance is heard (one per entry of ``heard``) and the decisions."""
    daemon = Daemon(unix_settings(short_dir), planner=IntentEngine(), hearing=OneSecondUtterances(decoder, heard))
    await daemon.start()
    editor, buffer, _ = await connect_editor(daemon.address, text=text)

    async def audio():
        for _ in heard:
            yield np.full(SECOND, 300, np.int16).tobytes()

    try:
        async with DaemonClient(daemon.address) as client:
            updates = [u async for u in client.stream_audio(audio(), AudioStart(language="en"))]
    finally:
        await editor.close()
        await daemon.stop(0.2)
    return buffer.text, [u.result for u in updates if isinstance(u, UtteranceDecided)]


class Scripted:
    """The speech-LLM stand-in for a stream: the next answer for each utterance."""

    def __init__(self, answers: list[FixedAnswer]):
        self.answers = iter(answers)

    def hear(self, pieces, cancel=None, max_new_tokens=96):
        return next(self.answers).hear(pieces, cancel, max_new_tokens)


async def _compare(short_dir, answers: list[FixedAnswer], heard: list[str], text: str = "Draft.", **decoder):
    """(with the speech-LLM, with the cascade alone): each the document and the decisions."""
    worker = ModelWorker(lambda progress: object(), name="test-speech-llm")
    speech_llm = SpeechLLMDecoder(worker, lambda composed: Scripted(answers), **decoder)
    try:
        with_llm = await _heard(short_dir, speech_llm, heard, text)
    finally:
        worker.shutdown()
    alone = await _heard(short_dir, CascadeDecoder(), heard, text)
    return with_llm, alone, speech_llm


UNUSABLE_ANSWERS = {
    "unparsable": FixedAnswer("the quick brown fox"),
    "unknown command": FixedAnswer("command: frobnicate"),
    "empty dictation": FixedAnswer("dictate: "),
    "repetition loop": FixedAnswer("dictate: and you and you and you and you and you"),
    "command without a phrase": FixedAnswer("command: delete unit=line count=7"),
    "model error": FixedAnswer("", failure=RuntimeError("CUDA out of memory")),
}


@pytest.mark.parametrize("case", sorted(UNUSABLE_ANSWERS))
async def test_an_unusable_answer_is_never_acted_on_and_the_cascade_decides(short_dir, case):
    answer = UNUSABLE_ANSWERS[case]
    (text, results), (alone_text, alone_results), decoder = await _compare(short_dir, [answer], ["Hello there."])
    assert answer.asked == 1 and decoder.rejected == (0 if case == "model error" else 1)
    assert text == alone_text and "Hello there" in text
    assert [r.intent for r in results] == [r.intent for r in alone_results]


async def test_a_runaway_decode_is_cancelled_after_the_timeout_and_the_cascade_decides(short_dir):
    stalled = FixedAnswer("dictate: never finished", stall=True)
    (text, results), (alone_text, _), decoder = await _compare(short_dir, [stalled], ["Hello there."], timeout_s=0.2)
    assert decoder.last_output is not None and decoder.last_output.cancelled and decoder.rejected == 1
    assert text == alone_text and "never" not in text


NOTHING_TO_ACT_ON = {
    # the speech-LLM's command, the document, what the recognizer heard
    "accept, no proposal": ("command: accept", "Draft.", "Scratch the last bit."),
    "reject, no proposal": ("command: reject", "Draft.", "Rejected by the board."),
    "scratch that, nothing dictated": ("command: scratch_that", "Draft.", "Scratch the cat."),
    "undo, nothing to undo": ("command: undo", "Draft.", "Undo the knot."),
    "delete a word, empty document": ("command: delete unit=word", "", "Delete nothing."),
    "select a sentence, empty document": ("command: select unit=sentence", "", "Select a seat."),
    "rewrite, nothing dictated": ("command: rewrite task=formal", "Draft.", "Formal wear only."),
}


@pytest.mark.parametrize("case", sorted(NOTHING_TO_ACT_ON))
async def test_a_command_with_nothing_to_act_on_is_decided_again_from_the_cascade(short_dir, case):
    line, document, recognized = NOTHING_TO_ACT_ON[case]
    (text, results), (alone_text, alone_results), _ = await _compare(short_dir, [FixedAnswer(line)], [recognized],
                                                                      document)
    assert text == alone_text and recognized.rstrip(".") in text  # the recognizer's dictation, typed once
    assert [r.intent for r in results] == [r.intent for r in alone_results]
    assert results[0].intent.kind is IntentKind.DICTATION and results[0].applied


async def test_scratch_that_heard_as_accept_scratches_and_never_types_accept(short_dir):
    # Issue 15: "scratch that" answered as `command: accept` with nothing to accept typed "Accept".
    answers = [FixedAnswer("dictate: Hello there."), FixedAnswer("command: accept")]
    (text, results), (alone_text, _), _ = await _compare(short_dir, answers, ["Hello there.", "Scratch that."])
    assert text == alone_text == "Draft."
    assert "accept" not in text.lower() and results[1].intent.name == "scratch_that" and results[1].applied


async def test_with_nothing_heard_by_the_cascade_an_unusable_command_does_nothing(short_dir):
    (text, results), _, _ = await _compare(short_dir, [FixedAnswer("command: accept"),
                                                       FixedAnswer("command: scratch_that")], ["", ""])
    assert text == "Draft."
    assert results[0].intent.kind is IntentKind.IGNORED and "nothing was changed" in results[0].message
    assert not results[0].batches and "Nothing to scratch" in results[1].message and not results[1].batches


async def test_a_usable_answer_is_the_decision_and_the_cascade_only_its_fallback(short_dir):
    answers = [FixedAnswer("dictate: Hello there."), FixedAnswer("command: scratch_that"),
               FixedAnswer("dictate: Good morning.")]
    (text, results), _, decoder = await _compare(short_dir, answers, ["Hollow dare.", "Sketch bat.", "Good mourning."])
    assert decoder.rejected == 0 and text == "Draft. Good morning."
    assert [r.intent.name for r in results] == ["", "scratch_that", ""]


def _core_with(text: str) -> tuple[DaemonCore, object]:
    core = DaemonCore(Settings(), IntentEngine())
    session = core.open_session(Hello("test"))
    session.handle(OpenDocument("doc", text, 1, Selection.cursor(len(text))))
    return core, session


@pytest.mark.parametrize("command", ["replace cat with dog", "select the cat", "delete the cat"])
async def test_a_decided_command_whose_target_is_absent_takes_the_fallback(command):
    core, _ = _core_with("A dog.")
    fallback = Utterance("Good.", source="speech")
    heard = Utterance(command, source="speech-llm", decided_as=IntentKind.COMMAND, fallback=fallback)
    decided = await core.handle_utterance(heard, "doc", act=False)
    alone = await core.handle_utterance(fallback, "doc", act=False)
    assert decided.intent == alone.intent and decided.intent.kind is IntentKind.DICTATION
    # Without a decided kind the same words are planned by the grammar's own rule for them, as before.
    typed = await core.handle_utterance(Utterance(command), "doc", act=False)
    assert typed.intent != decided.intent and "Good" not in typed.intent.text


async def test_the_speech_llms_dictation_is_not_second_guessed_as_an_open_ended_command():
    rewriter = FakeRewriter()
    planner = ModelPlanner(GrammarForRewrites(), rewriter)
    document = DocumentSnapshot("doc", "A long text.", 1, Selection.cursor(12))
    heard = Utterance("make that shorter", source="speech-llm", decided_as=IntentKind.DICTATION)
    plan = await planner.plan(heard, document, Modes())
    assert plan.intent.kind is IntentKind.DICTATION and rewriter.executed == []
    # The recognizer's reading of the same words is shown to the model, as before.
    recognized = await planner.plan(Utterance("make that shorter", source="speech"), document, Modes())
    assert recognized.intent.name == "rewrite" and len(rewriter.executed) == 1


def _one_second() -> SegmentedUtterance:
    audio = np.zeros(SECOND, np.int16)
    return SegmentedUtterance(0, audio, 0.0, 0.0, 1.0, (SpeechAudio(audio, 0.0),), 0.5, 0.5, 1.0)


@pytest.mark.parametrize("line", ["dictate: Hello there.", "blah"])
async def test_a_recognizer_failure_costs_a_usable_answer_only_its_fallback(line):
    worker = ModelWorker(lambda progress: object(), name="test-speech-llm")
    decoder = SpeechLLMDecoder(worker, lambda composed: FixedAnswer(line))

    async def broken_cascade():
        raise RuntimeError("the recognizer crashed")

    try:
        if line == "blah":  # nothing to act on but the recognizer: its failure is the utterance's, as without
            with pytest.raises(RuntimeError, match="crashed"):
                await decoder.decode("t0", _one_second(), broken_cascade)
        else:
            events = await decoder.decode("t0", _one_second(), broken_cascade)
            heard = events[-1].utterance
            assert heard.text == "Hello there." and heard.decided_as is IntentKind.DICTATION and heard.fallback is None
    finally:
        worker.shutdown()


async def test_a_stream_that_ends_while_the_speech_llm_waits_cancels_its_decode():
    started, release = threading.Event(), threading.Event()

    def busy(model):
        started.set()
        release.wait(5.0)

    answer = FixedAnswer("dictate: late")
    worker = ModelWorker(lambda progress: object(), name="test-speech-llm")
    decoder = SpeechLLMDecoder(worker, lambda composed: answer)
    worker.submit(busy)  # a rewrite holds the worker
    utterance = _one_second()

    async def cascade():
        return [final_transcript("t0", utterance, Recognition("late", "en"))]

    task = asyncio.ensure_future(decoder.decode("t0", utterance, cascade))
    await asyncio.sleep(0.05)
    assert started.wait(5.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    worker.shutdown()
    assert answer.asked == 0  # the job was dropped: nothing ran for a stream that is gone

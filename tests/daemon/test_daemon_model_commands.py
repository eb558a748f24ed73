"""Open-ended commands, "stop", rewrite progress and best-of-n through the daemon (tiny model, Unix socket)."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time

import numpy as np
import pytest

from pushkin.clients.daemon_client import DaemonClient
from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.model_settings import ModelSettings
from pushkin.daemon.open_commands import looks_like_command, phrase_for
from pushkin.daemon.rewrite import PROGRESS_CODE, RewriteExecutor, RewriteRunner, build_rewriter, style_scorer
from pushkin.daemon.server import Daemon
from pushkin.daemon.settings import SettingsError, load_settings
from pushkin.model.composed import CompositionStatus
from pushkin.model.output_language import DEFAULT_GRAMMAR, CommandOutput
from pushkin.model.rewrite import RewriteOptions
from pushkin.model.worker import ModelWorker
from pushkin.persona.metrics import StyleProfile
from pushkin.proto.types import IntentKind, StatusNotice

from .conftest import connect_editor, unix_settings
from .test_daemon_rewrite import _command, _doc


class ScriptedModel:
    """A LanguageModel whose classification answer is fixed and whose rewrites are slow and endless (until
    cancelled): the model's *behaviour* under test is the daemon's, not the weights'."""

    def __init__(self, answer: str, piece_s: float = 0.01):
        self.answer = answer
        self.piece_s = piece_s
        self.classified: list[str] = []

    def compose(self, mode, task=""):
        return CompositionStatus(mode, task, (), (), False)

    def stream(self, prompt, options=None, cancel: threading.Event | None = None):
        if "Decide whether the utterance" in prompt:
            self.classified.append(prompt)
            yield self.answer
            return
        for n in range(100_000):
            if cancel is not None and cancel.is_set():
                return
            time.sleep(self.piece_s)
            yield f" w{n}"


async def _daemon(folder, model, **executor):
    settings = unix_settings(folder)
    settings = dataclasses.replace(settings, intent=dataclasses.replace(settings.intent, language_model=True))
    worker = ModelWorker(lambda progress: model, name="test-open-commands")
    await asyncio.wrap_future(worker.load())
    rewriter = RewriteExecutor(RewriteRunner(worker, options=RewriteOptions(max_new_tokens=12, seed=1)), **executor)
    daemon = Daemon(settings, planner=IntentEngine(settings.intent), rewriter=rewriter)
    await daemon.start()
    return daemon, worker


# ---- the heuristic and the mapping ------------------------------------------------------------------


@pytest.mark.parametrize("text", ["make it sound nicer", "Polish this paragraph.", "сделай это короче",
                                  "please tidy this up", "переделай это по-человечески"])
def test_imperatives_are_worth_a_model_call(text):
    assert looks_like_command(text)


@pytest.mark.parametrize("text", ["The fox jumps over the dog.", "it was a dark and stormy night",
                                  "Мы пошли гулять в парк.", "make no mistake, the author of this book knew exactly "
                                  "what she was doing", "", "this is it"])
def test_dictation_never_pays_for_a_model_call(text):
    assert not looks_like_command(text)


def test_every_output_language_command_maps_to_a_grammar_phrase_of_the_same_command():
    engine = IntentEngine()
    expected = {"scratch_that": "scratch_that", "undo": "undo", "redo": "redo", "stop": "stop", "new_line": "new_line",
                "new_paragraph": "new_paragraph", "sleep": "sleep", "wake": "wake"}
    for task in DEFAULT_GRAMMAR.commands["rewrite"].args["task"].split("|"):
        match = engine.classify(phrase_for(CommandOutput("rewrite", {"task": task})))
        assert match is not None and match.command == "rewrite"
        assert match.args["task"] == task.split("_")[0] if task.startswith("translate") else match.args["task"] == task
    for name, command in expected.items():
        match = engine.classify(phrase_for(CommandOutput(name, {})))
        assert match is not None and match.command == command, name
    for unit in ("word", "sentence", "paragraph", "line"):
        for verb, command in (("delete", "delete"), ("select", "select")):
            match = engine.classify(phrase_for(CommandOutput(verb, {"unit": unit})))
            assert match is not None and match.command.startswith(command), (verb, unit)
    three = engine.classify(phrase_for(CommandOutput("delete", {"unit": "word", "count": "3"})))
    assert three.command == "delete_words" and three.args["count"] == "3"
    assert engine.classify(phrase_for(CommandOutput("select", {"unit": "all"}))).command == "select_all"
    assert phrase_for(CommandOutput("delete", {"unit": "sentence", "count": "4"})) is None  # no such phrase: dictation
    assert phrase_for(CommandOutput("accept", {})) == "accept" and phrase_for(CommandOutput("reject", {})) == "reject"


# ---- through the daemon -----------------------------------------------------------------------------


async def test_an_open_ended_command_is_run_as_the_grammar_command_and_undo_restores(short_dir):
    model = ScriptedModel("command: scratch_that")
    daemon, worker = await _daemon(short_dir, model)
    try:
        editor, buffer, _ = await connect_editor(daemon.address, text="")
        async with DaemonClient(daemon.address) as client:
            assert (await client.say("the sea was calm")).applied
            dictated = buffer.text
            assert (await client.say("the wind rose")).applied and buffer.text != dictated
            before = buffer.text
            assert not model.classified  # dictation never asked the model
            result = await client.say("get rid of it")
            assert model.classified and result.applied, result.message
            assert result.intent.kind is IntentKind.COMMAND and result.intent.name == "scratch_that"
            assert result.intent.source == "model" and "get rid of it" in result.message
            assert buffer.text == dictated
            assert (await client.say("undo")).applied and buffer.text == before
            status = await client.status()
            assert "get rid of it" in [t.text for t in status.recent_transcripts]
        await editor.close()
    finally:
        await daemon.stop(0.2)
        worker.shutdown()


@pytest.mark.parametrize("answer", ["command: rm -rf /", "command: delete unit=everything", "Sure! Here you go",
                                    "command: undo\ncommand: undo", "dictate: something else entirely"])
async def test_answers_outside_the_grammar_keep_the_words_as_dictation(short_dir, answer):
    model = ScriptedModel(answer)
    daemon, worker = await _daemon(short_dir, model)
    try:
        editor, buffer, _ = await connect_editor(daemon.address, text="")
        async with DaemonClient(daemon.address) as client:
            result = await client.say("make it shine")
            assert model.classified and result.applied
            assert result.intent.kind is IntentKind.DICTATION and "make it shine" in buffer.text.lower()
            assert "something else" not in buffer.text
        await editor.close()
    finally:
        await daemon.stop(0.2)
        worker.shutdown()


async def test_the_tiny_model_classifies_and_its_garbage_becomes_dictation(short_dir, composed):
    daemon, worker = await _daemon(short_dir, composed)
    try:
        editor, buffer, _ = await connect_editor(daemon.address, text="")
        async with DaemonClient(daemon.address) as client:
            result = await client.say("Сделай это короче")
        classification = daemon.core.rewriter.last_classification
        assert classification is not None and classification.raw_line is not None
        assert result.applied and result.intent.kind is IntentKind.DICTATION  # random weights: not a valid command
        assert classification.rejected or classification.output.text == "Сделай это короче"
        assert "Сделай это короче" in buffer.text
        await editor.close()
    finally:
        await daemon.stop(0.2)
        worker.shutdown()


async def test_a_rewrite_streams_progress_and_stop_cancels_it(short_dir):
    daemon, worker = await _daemon(short_dir, ScriptedModel("dictate: x"))
    daemon.core.rewriter.runner.options = RewriteOptions(max_new_tokens=None)
    try:
        editor, buffer, recorder = await connect_editor(daemon.address, text="")
        async with DaemonClient(daemon.address) as client:
            assert (await client.say("the sea was calm")).applied
            dictated = buffer.text
            rewrite = asyncio.ensure_future(client.say("rephrase that"))
            progress = await recorder.wait_for(lambda e: isinstance(e, StatusNotice) and e.code == PROGRESS_CODE)
            assert progress.message.startswith(" w0") and progress.document_id == "doc"
            await recorder.wait_for(lambda e: isinstance(e, StatusNotice) and e.code == PROGRESS_CODE
                                    and " w5" in e.message)
            stopped = await client.say("стоп")
            result = await asyncio.wait_for(rewrite, 5)
        assert "cancelled" in result.message and not result.batches
        assert stopped.intent.name == "stop" and not stopped.batches and "Остановлено" in stopped.message
        assert buffer.text == dictated
        await editor.close()
    finally:
        await daemon.stop(0.2)
        worker.shutdown()


# ---- best-of-n --------------------------------------------------------------------------------------


def test_the_style_scorer_prefers_plain_words_to_stock_phrases():
    scorer = style_scorer()
    source = "The committee met on Tuesday and approved the budget."
    plain = "On Tuesday the committee approved the budget."
    stock = "It is important to note that at the end of the day the committee approved the budget."
    assert scorer(source, plain) > scorer(source, stock)
    assert scorer(source, "") == 0.0
    corpus = StyleProfile.from_texts(["On Tuesday we walked to the river.", "The budget was approved at last."] * 5)
    with_corpus = style_scorer(corpus)
    assert with_corpus(source, plain) > with_corpus(source, stock)


async def test_best_of_n_applies_the_candidate_the_style_score_likes_best():
    from .parrot_lm import ParrotModel

    scorer = style_scorer()
    worker = ModelWorker(lambda progress: ParrotModel(), name="test-best-of")
    try:
        runner = RewriteRunner(worker, options=RewriteOptions(best_of=4, temperature=3.0, min_p=0.0,
                                                              max_new_tokens=8, seed=11), scorer=scorer)
        document = _doc()
        outcome = await runner.run(_command("rephrase", 0, len(document.text)), document)
        assert len(outcome.candidates) == 4 and len(set(outcome.candidates)) > 1
        expected = [scorer(document.text, c) for c in outcome.candidates]
        assert outcome.scores == pytest.approx(expected)
        assert outcome.text == outcome.candidates[int(np.argmax(expected))]
        assert outcome.plan.edits[0].text == outcome.text
    finally:
        worker.shutdown()


def test_best_of_n_in_settings_uses_the_style_scorer(tmp_path):
    executor = build_rewriter(ModelSettings(enabled=True, best_of=3))
    try:
        assert executor.runner.scorer is not None and executor.runner.options.best_of == 3
        assert executor.runner.scorer("a plain line.", "a plain line.") > 0
    finally:
        executor.runner.worker.shutdown()
    config = tmp_path / "p.toml"
    config.write_text('[model]\nfront_end = "speech"\n')
    with pytest.raises(SettingsError, match="front_end"):
        load_settings(str(config))
    config.write_text('[model]\nfront_end = "speech-llm"\nopen_commands = false\n')
    assert load_settings(str(config)).model.front_end == "speech-llm"


def test_merge_takes_a_way_or_the_earlier_true_and_refuses_others(tmp_path):
    config = tmp_path / "p.toml"
    for written, read in (('"weights"', "weights"), ('"cat"', "cat"), ('"none"', "none"), ("true", True)):
        config.write_text(f"[model]\nmerge = {written}\n")
        assert load_settings(str(config)).model.merge == read
    config.write_text('[model]\nmerge = "sometimes"\n')
    with pytest.raises(SettingsError, match="merge must be 'none', 'cat' or 'weights'"):
        load_settings(str(config))

"""daemon.assembly: the daemon put together from its settings (what `pushkin serve` runs)."""

from __future__ import annotations

import dataclasses
import shutil
import sys

import pytest

from pushkin.daemon.assembly import SettingsError, build_daemon
from pushkin.daemon.hearing import SpeechFrontEnd
from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.rewrite import RewriteExecutor
from pushkin.daemon.speech_llm import COMPONENT, SpeechLLMDecoder

from .conftest import unix_settings


def component(daemon, name):
    return next(known for known in daemon.core.components if known.name == name)


async def test_the_default_daemon_hears_with_the_cascade_and_plans_with_the_intent_engine(short_dir, monkeypatch):
    closed = []
    close = SpeechFrontEnd.close
    monkeypatch.setattr(SpeechFrontEnd, "close", lambda front: (closed.append(front), close(front)))
    lines = []
    daemon = build_daemon(unix_settings(short_dir), report=lines.append)
    assert type(daemon.hearing) is SpeechFrontEnd and isinstance(daemon.planner, IntentEngine)
    assert daemon.core.rewriter is None and daemon.persona is None
    assert component(daemon, "recognizer").state == "ready"
    assert not any(known.name == COMPONENT for known in daemon.core.components)
    await daemon.start()
    assert daemon.address.uri == f"unix://{short_dir}/d.sock"
    await daemon.stop(0.2)
    assert closed == []
    daemon.close()
    daemon.close()
    assert closed == [daemon.hearing]  # the recognizer's thread is released, once
    assert lines == []


def test_speech_llm_without_a_model_says_it_hears_with_the_cascade(short_dir):
    settings = unix_settings(short_dir, model={"front_end": "speech-llm"})
    lines = []
    daemon = build_daemon(settings, report=lines.append)
    assert type(daemon.hearing) is SpeechFrontEnd
    line = component(daemon, COMPONENT)
    assert line.state == "cascade" and "enabled = true" in line.detail
    assert lines == [line.detail]
    daemon.close()


def test_without_the_audio_extra_the_daemon_starts_deaf_and_says_why(short_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "pushkin.daemon.hearing", None)  # what a missing extra looks like
    lines = []
    daemon = build_daemon(unix_settings(short_dir), report=lines.append)
    assert daemon.hearing is None and component(daemon, "recognizer").state == "missing"
    assert len(lines) == 1 and lines[0].startswith("hearing is off") and "lil-pushkin[audio]" in lines[0]
    daemon.close()


def test_a_model_that_is_not_there_is_a_settings_error(short_dir):
    settings = unix_settings(short_dir, model={"enabled": True, "model": str(short_dir / "no-such-model")})
    with pytest.raises(SettingsError, match="no-such-model"):
        build_daemon(settings)


@pytest.mark.slow
def test_with_a_model_and_an_audio_adapter_finals_go_through_the_speech_llm(short_dir, tiny, tmp_path):
    settings = unix_settings(short_dir, model={"enabled": True, "model": str(tiny.base), "adapters": str(tiny.adapters),
                                               "front_end": "speech-llm"})
    daemon = build_daemon(settings, report=lambda line: None)
    assert isinstance(daemon.core.rewriter, RewriteExecutor) and daemon.persona is not None
    assert daemon.settings.intent.language_model  # the intent engine may hand rewrites to the model
    assert isinstance(daemon.hearing.final_decoder, SpeechLLMDecoder)
    assert daemon.hearing.final_decoder.model_worker is daemon.core.rewriter.runner.worker  # one language-model thread
    assert component(daemon, COMPONENT).state == "speech-llm"
    daemon.close()

    without_audio = tmp_path / "adapters"
    shutil.copytree(tiny.adapters, without_audio, ignore=shutil.ignore_patterns("audio-*"))
    settings = dataclasses.replace(settings, model=dataclasses.replace(settings.model, adapters=str(without_audio)))
    lines = []
    daemon = build_daemon(settings, report=lines.append)
    assert type(daemon.hearing) is SpeechFrontEnd
    assert component(daemon, COMPONENT).state == "cascade" and lines == [component(daemon, COMPONENT).detail]
    daemon.close()

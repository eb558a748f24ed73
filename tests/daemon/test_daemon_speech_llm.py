"""The speech-LLM front end in the daemon: StreamAudio → VAD → tiny Whisper encoder → random audio adapter →
tiny Gemma → one output-language line (random weights: garbage, rejected, heard by the cascade instead)."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest
from hearing.speech import compose

from pushkin.audio_lora.encoder import TransformersWhisperEncoder
from pushkin.clients.daemon_client import DaemonClient
from pushkin.daemon.hearing import HearingSettings
from pushkin.daemon.hearing.vad import SegmentedUtterance, SpeechAudio
from pushkin.daemon.hearing.vad import Silence as VadSilence
from pushkin.daemon.planning import DecidedCommand, Utterance
from pushkin.daemon.server import Daemon
from pushkin.daemon.speech_llm import (
    UNAVAILABLE_CODE,
    UnusableLine,
    front_end_component,
    heard_from,
    speech_llm_front_end,
    speech_pieces,
)
from pushkin.model.composed import ComposedModel
from pushkin.model.loading import LoadOptions, load_base
from pushkin.model.output_language import CommandOutput, DictateOutput, parse_output_line
from pushkin.model.registry import AdapterRegistry
from pushkin.model.speech import SpeechOutput
from pushkin.model.worker import ModelWorker
from pushkin.proto.types import AudioStart, IntentKind, StatusNotice, Transcript, UtteranceDecided

from .conftest import connect_editor, unix_settings
from .test_hearing_wiring import RecordingPlanner, paced


def tiny_whisper_encoder(width: int) -> TransformersWhisperEncoder:
    from transformers import WhisperConfig, WhisperFeatureExtractor
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    config = WhisperConfig(d_model=width, encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=64,
                           decoder_layers=1, decoder_attention_heads=2, decoder_ffn_dim=64, num_mel_bins=80,
                           max_source_positions=1500, vocab_size=64, pad_token_id=0, bos_token_id=1, eos_token_id=2,
                           decoder_start_token_id=1)
    return TransformersWhisperEncoder(WhisperEncoder(config), WhisperFeatureExtractor(feature_size=80))


async def _hear(short_dir, tiny, composed, recognizer_settings, clips, registry_root=None):
    model = composed if registry_root is None else ComposedModel(
        load_base(LoadOptions(model=str(tiny.base))), AdapterRegistry(registry_root))
    worker = ModelWorker(lambda progress: model, name="test-speech-llm")
    hearing = dataclasses.replace(HearingSettings(recognizer=recognizer_settings, preload=False))
    front = speech_llm_front_end(hearing, None, worker, lambda: tiny_whisper_encoder(tiny.whisper_width),
                                 max_new_tokens=8)
    planner = RecordingPlanner()
    daemon = Daemon(dataclasses.replace(unix_settings(short_dir), hearing=hearing), planner=planner, hearing=front)
    await daemon.start()
    editor, buffer, seen = await connect_editor(daemon.address)
    try:
        scene = compose([0.6, clips["scratch"], 0.7])
        async with DaemonClient(daemon.address) as client:
            updates = [u async for u in client.stream_audio(paced(scene.audio, 0), AudioStart(language="en"))]
    finally:
        await editor.close()
        await daemon.stop(0.2)
        front.close()
        worker.shutdown()
    return front.final_decoder, planner, updates, buffer


@pytest.mark.slow
async def test_speech_llm_hears_through_stream_audio_and_garbage_is_not_executed(short_dir, tiny, composed,
                                                                                 tiny_recognizer_settings, clips):
    decoder, planner, updates, buffer = await _hear(short_dir, tiny, composed, tiny_recognizer_settings, clips)
    decided = [u for u in updates if isinstance(u, UtteranceDecided)]
    finals = [u for u in updates if isinstance(u, Transcript) and u.final]
    assert len(decided) == 1 and len(finals) == 1
    # The speech-LLM ran on the utterance (audio + silence markers → the composed model → one line) ...
    output = decoder.last_output
    assert output is not None and not decoder.unavailable
    assert output.composition is not None and "audio:speech" in output.composition.active
    # ... its random line is outside the output language: rejected, never executed; the cascade heard it.
    assert output.output is None and output.rejected and decoder.rejected == 1
    assert [u.source for u in planner.utterances] == ["speech"]
    assert decided[0].result.intent.text == finals[0].text and buffer.text == finals[0].text


@pytest.mark.slow
async def test_without_an_audio_adapter_it_says_so_and_hears_with_the_cascade(short_dir, tiny, composed,
                                                                             tiny_recognizer_settings, clips, tmp_path):
    root = tmp_path / "adapters"
    shutil.copytree(tiny.adapters, root, ignore=shutil.ignore_patterns("audio-*"))
    component = front_end_component("speech-llm", str(root))
    assert component.state == "cascade" and "audio adapter" in component.detail
    assert front_end_component("speech-llm", str(tiny.adapters)).state == "speech-llm"
    assert front_end_component("cascade", "").state == "cascade"
    decoder, planner, updates, buffer = await _hear(short_dir, tiny, composed, tiny_recognizer_settings, clips, root)
    notices = [u for u in updates if isinstance(u, StatusNotice) and u.code == UNAVAILABLE_CODE]
    assert len(notices) == 1 and "audio adapter" in notices[0].message and "cascade" in notices[0].message
    assert "audio adapter" in decoder.unavailable
    assert len([u for u in updates if isinstance(u, UtteranceDecided)]) == 1 and buffer.text


def test_parsed_lines_become_dictation_or_grammar_phrases():
    audio = np.zeros(3200, np.int16)
    parts = (SpeechAudio(audio[:1200], 0.5), VadSilence(0.8, 0.575), SpeechAudio(audio[1200:], 1.375))
    utterance = SegmentedUtterance(0, audio, 0.5, 0.5, 1.5, parts, 0.4, 0.8, 0.9)
    pieces = speech_pieces(utterance)
    assert [type(p).__name__ for p in pieces] == ["Silence", "ndarray", "Silence", "ndarray", "Silence"]
    assert [p.duration_s for p in pieces if not isinstance(p, np.ndarray)] == [0.4, 0.8, 0.8]
    assert pieces[1].dtype == np.float32 and len(pieces[1]) + len(pieces[3]) == 3200
    [heard] = heard_from(SpeechOutput(DictateOutput("Hello there"), "dictate: Hello there"), "u1", utterance)
    assert heard.transcript.final and heard.utterance.text == "Hello there" and heard.utterance.source == "speech-llm"
    assert heard.utterance.pause_before_s == 0.4 and heard.utterance.pause_after_s == 0.8
    [command] = heard_from(SpeechOutput(CommandOutput("rewrite", {"task": "formal"}), "command: rewrite task=formal"),
                           "u2", utterance)
    assert command.utterance.text == "make that more formal"
    assert command.utterance.command == DecidedCommand("rewrite", (("task", "formal"),))
    assert heard.utterance.decided_as is IntentKind.DICTATION and command.utterance.decided_as is IntentKind.COMMAND
    with pytest.raises(UnusableLine, match="bad"):
        heard_from(SpeechOutput(None, "blah", rejected="bad"), "u3", utterance)
    with pytest.raises(UnusableLine, match="takes no count"):
        heard_from(SpeechOutput(CommandOutput("delete", {"unit": "line", "count": "7"}), "x"), "u4", utterance)
    with pytest.raises(UnusableLine, match="cancelled"):
        heard_from(SpeechOutput(DictateOutput("x"), "dictate: x", cancelled=True), "u5", utterance)
    # Two operations: two finals in order, the second with its own id and no fallback of its own.
    line = "dictate: The meeting is at noon. then command: sleep"
    dictated, slept = heard_from(SpeechOutput(parse_output_line(line), line), "u6", utterance,
                                 fallback=Utterance("the meeting is at noon and then stop listening"))
    assert dictated.transcript.utterance_id == "u6" and dictated.utterance.text == "The meeting is at noon."
    assert dictated.utterance.fallback is not None and dictated.utterance.command is None
    assert slept.transcript.utterance_id == "u6+2" and slept.utterance.fallback is None
    assert slept.utterance.command == DecidedCommand("sleep") and slept.utterance.decided_as is IntentKind.COMMAND
    line = "dictate: Hi. then command: delete unit=line count=7"  # one unusable operation: none is done
    with pytest.raises(UnusableLine, match="takes no count"):
        heard_from(SpeechOutput(parse_output_line(line), line), "u7", utterance)

"""The speech-LLM path on the tiny Gemma: encoder → projector → splice → composed model → output language."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from pushkin.audio_lora.encoder import TransformersWhisperEncoder
from pushkin.audio_lora.splice import Silence
from pushkin.model.registry import AdapterRegistry, Mode
from pushkin.model.speech import (
    FrontEnd,
    SpeechLLM,
    SpeechLLMUnavailable,
    check_front_end,
    find_audio_adapter,
    parse_front_end,
)


@pytest.fixture(scope="module")
def encoder(tiny):
    from transformers import WhisperConfig, WhisperFeatureExtractor
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    config = WhisperConfig(d_model=tiny.whisper_width, encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=64,
                           decoder_layers=1, decoder_attention_heads=2, decoder_ffn_dim=64, num_mel_bins=80,
                           max_source_positions=1500, vocab_size=64, pad_token_id=0, bos_token_id=1, eos_token_id=2,
                           decoder_start_token_id=1)
    return TransformersWhisperEncoder(WhisperEncoder(config), WhisperFeatureExtractor(feature_size=80))


def _clip(seconds, seed):
    return (np.random.default_rng(seed).standard_normal(int(16000 * seconds)) * 0.1).astype(np.float32)


def test_audio_and_silence_land_at_their_positions_on_gemma_scale(composed, encoder):
    speech = SpeechLLM(composed, encoder)
    first, second = _clip(1.0, 1), _clip(0.5, 2)
    input_ids, embeds = speech.build_inputs([first, Silence(0.8), second, Silence(0.1)])
    ids = input_ids[0].tolist()
    audio_positions = [i for i, t in enumerate(ids) if t == speech.ids.audio]
    assert len(audio_positions) == 13 + 7  # ceil(50 / 4) and ceil(25 / 4)
    silence_positions = [i for i, t in enumerate(ids) if t in speech.ids.silence]
    assert len(silence_positions) == 1  # the 0.1 s pause is too short to mark
    assert ids[silence_positions[0]] == speech.ids.silence[1]  # 0.8 s is in the [0.7, 1.5) bucket
    assert silence_positions[0] == audio_positions[12] + 1 == audio_positions[13] - 1

    scale = composed.embed_scale
    with torch.no_grad():
        projected = torch.cat([speech.parts.projector(encoder.encode(clip).unsqueeze(0))[0] for clip in (first, second)])
        for k, position in enumerate(audio_positions):
            torch.testing.assert_close(embeds[0, position], projected[k] * scale)
        torch.testing.assert_close(embeds[0, silence_positions[0]], speech.parts.silence.table.weight[1] * scale)
        token_embeds = composed.embed(input_ids)
    others = [i for i in range(len(ids)) if i not in audio_positions and i not in silence_positions]
    assert torch.equal(embeds[0, others], token_embeds[0, others])
    assert scale == pytest.approx(composed.loaded.hidden_size ** 0.5)


def test_hearing_gives_a_parsed_line_or_says_why_not(composed, encoder):
    speech = SpeechLLM(composed, encoder)
    result = speech.hear([_clip(0.5, 3)], max_new_tokens=8)
    assert result.composition.mode is Mode.DICTATION
    assert "audio:speech" in result.composition.active
    assert (result.output is not None) != bool(result.rejected)  # random weights: almost surely rejected


def test_speech_llm_without_an_audio_adapter_says_so(composed, encoder, tiny, tmp_path):
    shutil.copytree(tiny.adapters / "persona-writer", tmp_path / "persona-writer")
    registry = AdapterRegistry(tmp_path)
    with pytest.raises(SpeechLLMUnavailable, match="needs a trained audio adapter"):
        find_audio_adapter(registry)
    status = check_front_end("speech-llm", registry)
    assert not status.usable and "set the front end to 'cascade'" in status.message
    assert check_front_end(FrontEnd.CASCADE, registry).usable
    assert check_front_end("speech-llm", AdapterRegistry(tiny.adapters)).usable
    with pytest.raises(ValueError, match="'cascade' or 'speech-llm'"):
        parse_front_end("whisper")


def test_an_audio_adapter_missing_its_projector_is_not_usable(tiny, tmp_path):
    shutil.copytree(tiny.adapters / "audio-speech", tmp_path / "audio-speech")
    (tmp_path / "audio-speech" / "projector.safetensors").unlink()
    with pytest.raises(SpeechLLMUnavailable, match="projector.safetensors"):
        find_audio_adapter(AdapterRegistry(tmp_path))

"""Whisper encoders behind the AudioEncoder Protocol, built from tiny configs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pushkin.audio_lora.encoder import TransformersWhisperEncoder, encoder_frames


@pytest.fixture(scope="module")
def tiny_whisper_encoder():
    from transformers import WhisperConfig, WhisperFeatureExtractor
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    config = WhisperConfig(d_model=32, encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=64,
                           decoder_layers=1, decoder_attention_heads=2, decoder_ffn_dim=64, num_mel_bins=80,
                           max_source_positions=1500, vocab_size=64, pad_token_id=0, bos_token_id=1,
                           eos_token_id=2, decoder_start_token_id=1)
    return TransformersWhisperEncoder(WhisperEncoder(config), WhisperFeatureExtractor(feature_size=80))


@pytest.mark.parametrize("seconds", [0.25, 1.0, 2.5])
def test_frames_cover_the_clip_at_50_per_second(tiny_whisper_encoder, seconds):
    audio = (np.random.default_rng(0).standard_normal(int(16000 * seconds)) * 0.1).astype(np.float32)
    frames = tiny_whisper_encoder.encode(audio)
    assert frames.shape == (encoder_frames(audio.size), 32)
    assert frames.shape[0] == math.ceil(50 * seconds)
    assert tiny_whisper_encoder.output_dim == 32


def test_bad_audio_is_refused(tiny_whisper_encoder):
    with pytest.raises(ValueError, match="mono"):
        tiny_whisper_encoder.encode(np.zeros((2, 100), dtype=np.float32))
    with pytest.raises(ValueError, match="empty"):
        tiny_whisper_encoder.encode(np.zeros(0, dtype=np.float32))


@pytest.fixture(scope="module")
def tiny_ct2_whisper(tmp_path_factory):
    from pushkin.audio_lora.whisper_tiny import SHAPES, build_whisper

    return build_whisper(tmp_path_factory.mktemp("ct2-whisper"), SHAPES["tiny-test"])


@pytest.mark.slow
@pytest.mark.parametrize("seconds", [0.3, 1.0, 2.5])
def test_ctranslate2_encoder_gives_only_the_clips_frames(tiny_ct2_whisper, seconds):
    from pushkin.audio_lora.encoder import CTranslate2WhisperEncoder

    encoder = CTranslate2WhisperEncoder(tiny_ct2_whisper, compute_type="float32")
    audio = (np.random.default_rng(1).standard_normal(int(16000 * seconds)) * 0.1).astype(np.float32)
    frames = encoder.encode(audio)
    assert frames.shape == (encoder_frames(audio.size), 64)
    assert encoder.output_dim == 64
    assert np.isfinite(frames.numpy()).all() and frames.abs().sum() > 0

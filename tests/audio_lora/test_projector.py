"""Projector shapes, the padding rule, and silence buckets."""

from __future__ import annotations

import math

import pytest
import torch

from pushkin.audio_lora.projector import AudioProjector, ProjectorConfig, SilenceEmbedding, projected_length


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("frames", [1, 3, 4, 7, 8, 50, 149])
def test_shapes_b_t_c_to_b_ceil_t_over_k_d(k, frames):
    projector = AudioProjector(ProjectorConfig(input_dim=12, output_dim=20, hidden_dim=16, stack_factor=k))
    out = projector(torch.randn(2, frames, 12))
    assert out.shape == (2, math.ceil(frames / k), 20)
    assert projected_length(frames, k) == out.shape[1]


def test_stacking_keeps_frame_order_and_pads_the_last_group_with_zeros():
    projector = AudioProjector(ProjectorConfig(input_dim=2, output_dim=4, stack_factor=4))
    frames = torch.arange(1, 13, dtype=torch.float32).reshape(1, 6, 2)  # 6 frames of width 2
    stacked = projector.stack(frames)
    assert stacked.shape == (1, 2, 8)
    assert stacked[0, 0].tolist() == [1, 2, 3, 4, 5, 6, 7, 8]
    assert stacked[0, 1].tolist() == [9, 10, 11, 12, 0, 0, 0, 0]


def test_padding_does_not_leak_between_groups():
    projector = AudioProjector(ProjectorConfig(input_dim=3, output_dim=5, stack_factor=4)).eval()
    frames = torch.randn(1, 9, 3)
    with torch.no_grad():
        full = projector(frames)
        first_two_groups = projector(frames[:, :8])
    torch.testing.assert_close(full[:, :2], first_two_groups)


def test_bad_input_shapes_say_what_was_expected():
    projector = AudioProjector(ProjectorConfig(input_dim=3, output_dim=5))
    with pytest.raises(ValueError, match=r"\(B, T, 3\)"):
        projector(torch.randn(4, 3))
    with pytest.raises(ValueError, match=r"\(B, T, 3\)"):
        projector(torch.randn(1, 4, 7))
    with pytest.raises(ValueError, match="stack_factor"):
        ProjectorConfig(input_dim=3, output_dim=5, stack_factor=0)


def test_silence_buckets():
    silence = SilenceEmbedding((0.3, 0.7, 1.5, 3.0), 8)
    assert silence.bucket(0.1) is None
    assert [silence.bucket(d) for d in (0.3, 0.69, 0.7, 1.49, 1.5, 2.9, 3.0, 60.0)] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert silence(torch.tensor([0, 3])).shape == (2, 8)
    with pytest.raises(ValueError, match="increasing"):
        SilenceEmbedding((0.7, 0.3), 8)

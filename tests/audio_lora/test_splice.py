"""Audio and silence vectors land at exactly their placeholder positions, on Gemma's embedding scale."""

from __future__ import annotations

import pytest
import torch

from pushkin.audio_lora.splice import AudioSpan, Silence, build_prompt_ids, splice_embeddings

AUDIO, S0, S1 = 90, 91, 92
SCALE = 8.0


def _ids(rows):
    return torch.tensor(rows)


def test_audio_and_silence_positions_exactly():
    #          0  1  2      3      4   5      6      7      8  9
    ids = _ids([[1, 2, AUDIO, AUDIO, S1, AUDIO, AUDIO, AUDIO, 3, 4]])
    tokens = torch.randn(1, 10, 6)
    audio = torch.randn(1, 5, 6)
    table = torch.randn(2, 6)
    out = splice_embeddings(ids, tokens, audio_token_id=AUDIO, audio_embeds=audio, silence_token_ids=(S0, S1),
                            silence_table=table, scale=SCALE)
    for position, frame in zip([2, 3, 5, 6, 7], range(5)):
        assert torch.equal(out[0, position], audio[0, frame] * SCALE), position
    assert torch.equal(out[0, 4], table[1] * SCALE)
    for position in (0, 1, 8, 9):
        assert torch.equal(out[0, position], tokens[0, position]), position
    assert not torch.equal(tokens[0, 2], out[0, 2])  # the input was not modified in place


def test_an_off_by_one_splice_is_caught():
    ids = _ids([[1, AUDIO, AUDIO, 2]])
    tokens = torch.zeros(1, 4, 3)
    audio = torch.ones(1, 2, 3)
    out = splice_embeddings(ids, tokens, audio_token_id=AUDIO, audio_embeds=audio, scale=1.0)
    expected = torch.tensor([[0.0], [1.0], [1.0], [0.0]]).expand(4, 3)
    assert torch.equal(out[0], expected)
    shifted = torch.roll(out, 1, dims=1)  # what a splice one position late would give
    assert not torch.equal(shifted[0], expected)


def test_rows_with_different_audio_lengths():
    ids = _ids([[AUDIO, AUDIO, AUDIO, 5], [7, AUDIO, 5, 5]])
    tokens = torch.randn(2, 4, 3)
    audio = torch.randn(2, 3, 3)
    out = splice_embeddings(ids, tokens, audio_token_id=AUDIO, audio_embeds=audio, audio_lengths=[3, 1], scale=2.0)
    assert torch.equal(out[1, 1], audio[1, 0] * 2.0)
    assert torch.equal(out[0, 2], audio[0, 2] * 2.0)
    assert torch.equal(out[1, 0], tokens[1, 0])


def test_mismatched_counts_are_refused():
    ids = _ids([[AUDIO, AUDIO, 5]])
    with pytest.raises(ValueError, match="2 audio placeholders for 3 audio embeddings"):
        splice_embeddings(ids, torch.randn(1, 3, 4), audio_token_id=AUDIO, audio_embeds=torch.randn(1, 3, 4))
    with pytest.raises(ValueError, match="no audio was given"):
        splice_embeddings(ids, torch.randn(1, 3, 4), audio_token_id=AUDIO, audio_embeds=None)


class _CharTokenizer:
    def encode(self, text, add_special_tokens=False):
        return [ord(c) for c in text]


def test_prompt_ids_place_audio_and_silence_tokens():
    bucket = lambda d: None if d < 0.3 else (0 if d < 1.0 else 1)  # noqa: E731
    ids = build_prompt_ids(_CharTokenizer(), ["ab", AudioSpan(3), Silence(0.1), Silence(0.5), AudioSpan(2),
                                              Silence(2.0), "c"], audio_token_id=AUDIO, silence_token_ids=(S0, S1),
                           bucket_of=bucket, bos_token_id=1)
    assert ids == [1, 97, 98, AUDIO, AUDIO, AUDIO, S0, AUDIO, AUDIO, S1, 99]

"""Writing audio and silence vectors into a prompt's embeddings, at their placeholder positions.

A speech prompt is a token sequence in which each projected audio frame has one audio placeholder token
and each VAD pause long enough to matter has one silence token (one token id per duration bucket)::

    <bos> <start_of_turn> user \\n  A A A A A  <silence_1>  A A A  <end_of_turn> \\n <start_of_turn> model \\n

Gemma embeds the tokens (its embedding module multiplies each row by ``scale`` = sqrt(D)); then
:func:`splice_embeddings` overwrites the placeholder positions: the k-th audio placeholder of a row gets
the row's k-th projected audio vector, each silence token its bucket's learned vector, both multiplied by
the same ``scale`` so they arrive on the scale of the token rows around them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class AudioSpan:
    """``frames`` projected audio embeddings (one placeholder token each)."""

    frames: int


@dataclass(frozen=True)
class Silence:
    """A pause of ``duration_s`` seconds reported by the VAD."""

    duration_s: float


PromptPiece = str | AudioSpan | Silence


def build_prompt_ids(tokenizer, pieces: Sequence[PromptPiece], *, audio_token_id: int,
                     silence_token_ids: Sequence[int], bucket_of, bos_token_id: int | None = None) -> list[int]:
    """Token ids for a prompt made of text, audio spans and silences.

    ``bucket_of(duration_s)`` gives a silence's bucket index, or None for a pause too short to mark (it is
    then left out). Text is tokenized without special tokens added; special-token strings in it (turn
    markers) are recognized. ``bos_token_id`` is prepended when given.
    """
    ids: list[int] = [bos_token_id] if bos_token_id is not None else []
    for piece in pieces:
        if isinstance(piece, str):
            ids.extend(tokenizer.encode(piece, add_special_tokens=False))
        elif isinstance(piece, AudioSpan):
            if piece.frames < 0:
                raise ValueError(f"an audio span cannot have {piece.frames} frames")
            ids.extend([audio_token_id] * piece.frames)
        elif isinstance(piece, Silence):
            bucket = bucket_of(piece.duration_s)
            if bucket is not None:
                ids.append(silence_token_ids[bucket])
        else:
            raise TypeError(f"a prompt piece is text, AudioSpan or Silence, not {type(piece).__name__}")
    return ids


def splice_embeddings(input_ids: torch.Tensor, token_embeds: torch.Tensor, *, audio_token_id: int,
                      audio_embeds: torch.Tensor | None, audio_lengths: Sequence[int] | None = None,
                      silence_token_ids: Sequence[int] = (), silence_table: torch.Tensor | None = None,
                      scale: float = 1.0) -> torch.Tensor:
    """Return ``token_embeds`` with audio and silence vectors written at their placeholder positions.

    ``input_ids``: ``(B, L)``. ``token_embeds``: ``(B, L, D)``, Gemma's scaled embeddings of ``input_ids``.
    ``audio_embeds``: ``(B, N, D)`` projected audio (table-row scale); row b uses its first
    ``audio_lengths[b]`` vectors (all N when None), which must equal the number of audio placeholders in
    row b. ``silence_table``: ``(S, D)``, row j for the token ``silence_token_ids[j]``. Both are multiplied
    by ``scale``. Returns ``(B, L, D)`` in ``token_embeds``' dtype; ``token_embeds`` is not modified.
    """
    if input_ids.shape != token_embeds.shape[:2]:
        raise ValueError(f"input_ids {tuple(input_ids.shape)} and embeddings {tuple(token_embeds.shape)} disagree")
    out = token_embeds.clone()
    audio_mask = input_ids == audio_token_id
    placeholders = audio_mask.sum(dim=1).tolist()
    if audio_embeds is None:
        if any(placeholders):
            raise ValueError(f"the prompt has {sum(placeholders)} audio placeholders but no audio was given")
    else:
        batch, available, _ = audio_embeds.shape
        if batch != input_ids.shape[0]:
            raise ValueError(f"audio for {batch} rows, prompt has {input_ids.shape[0]}")
        lengths = list(audio_lengths) if audio_lengths is not None else [available] * batch
        for row, (want, have) in enumerate(zip(placeholders, lengths)):
            if want != have:
                raise ValueError(f"row {row}: {want} audio placeholders for {have} audio embeddings")
            if have > available:
                raise ValueError(f"row {row}: audio length {have} exceeds the {available} embeddings given")
        # Boolean-mask assignment fills positions row by row, left to right: the k-th placeholder of a row
        # gets that row's k-th vector.
        flat = torch.cat([audio_embeds[row, :n] for row, n in enumerate(lengths)], dim=0)
        out[audio_mask] = (flat * scale).to(out.dtype)
    if silence_token_ids:
        if silence_table is None or silence_table.shape[0] != len(silence_token_ids):
            raise ValueError("silence_table needs one row per silence token id")
        for bucket, token_id in enumerate(silence_token_ids):
            mask = input_ids == token_id
            if mask.any():
                out[mask] = (silence_table[bucket] * scale).to(out.dtype)
    return out

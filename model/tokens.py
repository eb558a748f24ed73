"""The special tokens the composed model needs, named once for the tokenizer, the splice and training.

Real Gemma 3 tokenizers already carry the turn markers; the audio placeholder and the silence markers are
added by :func:`ensure_special_tokens`. Those are input-only: the splice overwrites their positions, and text
generation never emits them (:func:`input_only_ids` are suppressed; with Gemma's tied output layer their
rows would otherwise be candidates for every next token).
"""

from __future__ import annotations

from dataclasses import dataclass

BOS = "<bos>"
EOS = "<eos>"
PAD = "<pad>"
UNK = "<unk>"
START_OF_TURN = "<start_of_turn>"
END_OF_TURN = "<end_of_turn>"
AUDIO = "<audio_soft_token>"

# Silence buckets: a pause of at least ``SILENCE_BUCKETS_S[i]`` seconds (and less than the next bound) is
# marked with ``silence_token(i)``. The VAD reports durations; the splice turns each into a learned vector.
SILENCE_BUCKETS_S: tuple[float, ...] = (0.3, 0.7, 1.5, 3.0)


def silence_token(bucket: int) -> str:
    return f"<silence_{bucket}>"


def silence_tokens(buckets: tuple[float, ...] = SILENCE_BUCKETS_S) -> tuple[str, ...]:
    return tuple(silence_token(i) for i in range(len(buckets)))


@dataclass(frozen=True)
class SpecialTokenIds:
    """Token ids of the special tokens in one tokenizer."""

    bos: int
    eos: int
    pad: int
    start_of_turn: int
    end_of_turn: int
    audio: int
    silence: tuple[int, ...]  # one per silence bucket, in bucket order


def ensure_special_tokens(tokenizer, buckets: tuple[float, ...] = SILENCE_BUCKETS_S) -> int:
    """Add the audio and silence tokens (and turn markers) that ``tokenizer`` lacks; returns how many were added.

    A caller that adds tokens must resize the model's embeddings (``model.resize_token_embeddings``).
    """
    vocab = tokenizer.get_vocab()
    wanted = [START_OF_TURN, END_OF_TURN, AUDIO, *silence_tokens(buckets)]
    missing = [t for t in wanted if t not in vocab]
    if not missing:
        return 0
    return tokenizer.add_special_tokens({"additional_special_tokens": missing}, replace_extra_special_tokens=False)


def special_token_ids(tokenizer, buckets: tuple[float, ...] = SILENCE_BUCKETS_S) -> SpecialTokenIds:
    """The ids of every special token; raises ValueError naming the ones ``tokenizer`` does not know."""
    vocab = tokenizer.get_vocab()
    names = [BOS, EOS, PAD, START_OF_TURN, END_OF_TURN, AUDIO, *silence_tokens(buckets)]
    missing = [n for n in names if n not in vocab]
    if missing:
        raise ValueError(f"the tokenizer lacks the special tokens {missing}; call ensure_special_tokens first")
    return SpecialTokenIds(
        bos=vocab[BOS],
        eos=vocab[EOS],
        pad=vocab[PAD],
        start_of_turn=vocab[START_OF_TURN],
        end_of_turn=vocab[END_OF_TURN],
        audio=vocab[AUDIO],
        silence=tuple(vocab[silence_token(i)] for i in range(len(buckets))),
    )


def input_only_ids(tokenizer, buckets: tuple[float, ...] = SILENCE_BUCKETS_S) -> tuple[int, ...]:
    """Ids of the audio placeholder and the silence markers that ``tokenizer`` knows: inputs only, never output."""
    vocab = tokenizer.get_vocab()
    return tuple(vocab[name] for name in (AUDIO, *silence_tokens(buckets)) if name in vocab)

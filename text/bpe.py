"""A byte-level BPE tokenizer trained on the spot, for the tiny random models tests and benchmarks build.

Byte-level BPE round-trips any UTF-8 text, so words the few training lines never showed still encode.
``tokenizers`` is imported only when one is trained.
"""

from __future__ import annotations

from collections.abc import Iterable


def train_byte_level_bpe(corpus: Iterable[str], vocab_size: int, special_tokens: Iterable[str] = ()):
    """A ``tokenizers.Tokenizer`` (byte-level pre-tokenizer and decoder) trained on ``corpus``.

    ``special_tokens`` take the first ids, in order; callers add post-processors and wrappers.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    return tokenizer

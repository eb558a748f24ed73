"""Streamed generation: a plain decode loop with a KV cache, min-p sampling and cancellation per token.

A hand-written loop instead of ``model.generate``: it checks a ``threading.Event`` between tokens (a new
utterance or "stop" cancels at once), yields text as soon as it is complete UTF-8, stops on stop strings,
and needs no extra thread (``TextIteratorStreamer`` would). It accepts token ids or ``inputs_embeds``
(the speech-LLM path splices audio into the embeddings) and works through a PeftModel with any set of
active adapters.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .tokens import input_only_ids


@dataclass(frozen=True)
class SamplingOptions:
    """How to pick tokens.

    ``temperature`` 0 means greedy. ``min_p`` keeps the tokens whose probability is at least ``min_p``
    times the most likely one's (0 turns it off); it only acts when sampling. ``stop_strings`` end the
    output (the stop string itself is not returned). ``seed`` makes sampling repeatable.
    """

    max_new_tokens: int = 128
    temperature: float = 0.7
    min_p: float = 0.1
    top_k: int = 0
    stop_strings: tuple[str, ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, not {self.max_new_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be 0 (greedy) or more, not {self.temperature}")
        if not 0.0 <= self.min_p < 1.0:
            raise ValueError(f"min_p must be in [0, 1), not {self.min_p}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be 0 (off) or more, not {self.top_k}")


GREEDY = SamplingOptions(temperature=0.0, min_p=0.0)


def pick_next_token(logits, options: SamplingOptions, generator=None):
    """The next token id for each row. ``logits``: ``(B, V)`` → ``(B,)`` (long)."""
    import torch

    if options.temperature == 0.0:
        return logits.argmax(dim=-1)
    scores = logits.float() / options.temperature
    if options.top_k:
        kth = torch.topk(scores, min(options.top_k, scores.shape[-1]), dim=-1).values[..., -1:]
        scores = scores.masked_fill(scores < kth, float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    if options.min_p:
        threshold = options.min_p * probs.max(dim=-1, keepdim=True).values
        probs = probs.masked_fill(probs < threshold, 0.0)
        probs = probs / probs.sum(dim=-1, keepdim=True)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def stream_token_ids(model, *, input_ids=None, inputs_embeds=None, options: SamplingOptions = GREEDY,
                     stop_ids: Sequence[int] = (), cancel: threading.Event | None = None,
                     suppress_ids: Sequence[int] = ()) -> Iterator[int]:
    """Generated token ids, one at a time, for a batch of one.

    ``input_ids``: ``(1, L)``; or ``inputs_embeds``: ``(1, L, D)`` already scaled like the model's own
    embedding output. Ends at a stop id (not yielded), after ``max_new_tokens``, or when ``cancel`` is set.
    ``suppress_ids`` are never generated (their logits are set to minus infinity before each pick).
    """
    import torch
    from transformers import DynamicCache

    if (input_ids is None) == (inputs_embeds is None):
        raise ValueError("pass exactly one of input_ids and inputs_embeds")
    prompt = input_ids if input_ids is not None else inputs_embeds
    if prompt.shape[0] != 1:
        raise ValueError(f"streamed generation takes a batch of one, not {prompt.shape[0]}")
    device = prompt.device
    generator = None
    if options.seed is not None and options.temperature > 0:
        generator = torch.Generator(device=device).manual_seed(options.seed)
    stops = set(int(i) for i in stop_ids)
    suppressed = torch.tensor(sorted(set(int(i) for i in suppress_ids)), dtype=torch.long, device=device)
    cache = DynamicCache()
    with torch.inference_mode():
        if cancel is not None and cancel.is_set():
            return
        if input_ids is not None:
            out = model(input_ids=input_ids, past_key_values=cache, use_cache=True, logits_to_keep=1)
        else:
            out = model(inputs_embeds=inputs_embeds, past_key_values=cache, use_cache=True, logits_to_keep=1)
        for _ in range(options.max_new_tokens):
            logits = out.logits[:, -1, :]
            if suppressed.numel():
                logits = logits.index_fill(-1, suppressed[suppressed < logits.shape[-1]], float("-inf"))
            token = pick_next_token(logits, options, generator)
            token_id = int(token.item())
            if token_id in stops:
                return
            yield token_id
            if cancel is not None and cancel.is_set():
                return
            out = model(input_ids=token.view(1, 1).to(device), past_key_values=out.past_key_values, use_cache=True)


def stream_text(model, tokenizer, *, input_ids=None, inputs_embeds=None, options: SamplingOptions = GREEDY,
                stop_ids: Sequence[int] | None = None, cancel: threading.Event | None = None,
                suppress_ids: Sequence[int] | None = None) -> Iterator[str]:
    """Generated text in pieces, as soon as each piece is complete UTF-8; stops at ``options.stop_strings``.

    ``stop_ids`` default to the tokenizer's eos and ``<end_of_turn>``; ``suppress_ids`` to the input-only
    tokens lil Pushkin adds (:func:`pushkin.model.tokens.input_only_ids`), which text never contains.
    """
    if stop_ids is None:
        stop_ids = default_stop_ids(tokenizer)
    if suppress_ids is None:
        suppress_ids = input_only_ids(tokenizer)
    generated: list[int] = []
    emitted = ""
    waiting = 0
    longest_stop = max((len(s) for s in options.stop_strings), default=0)
    for token_id in stream_token_ids(model, input_ids=input_ids, inputs_embeds=inputs_embeds, options=options,
                                     stop_ids=stop_ids, cancel=cancel, suppress_ids=suppress_ids):
        generated.append(token_id)
        text = tokenizer.decode(generated, skip_special_tokens=True)
        if text.endswith("\ufffd") and waiting < _MAX_UTF8_CONTINUATION:
            waiting += 1
            continue  # a character split across tokens: wait for the rest of its bytes (at most 3 more)
        waiting = 0
        cut = _first_stop(text, options.stop_strings)
        if cut is not None:
            if cut > len(emitted):
                yield text[len(emitted):cut]
            return
        # Hold back a tail that could still grow into a stop string.
        safe = len(text) - (longest_stop - 1 if longest_stop else 0)
        if safe > len(emitted):
            yield text[len(emitted):safe]
            emitted = text[:safe]
    text = tokenizer.decode(generated, skip_special_tokens=True)
    cut = _first_stop(text, options.stop_strings)
    final = text if cut is None else text[:cut]
    if len(final) > len(emitted):
        yield final[len(emitted):]


# A UTF-8 character has at most 4 bytes: past 3 more tokens, a replacement character is the model's output
# (bytes that never form a character), not a character still arriving.
_MAX_UTF8_CONTINUATION = 3


def _first_stop(text: str, stops: tuple[str, ...]) -> int | None:
    positions = [text.find(s) for s in stops if s and s in text]
    return min(positions) if positions else None


def default_stop_ids(tokenizer) -> tuple[int, ...]:
    ids = []
    if tokenizer.eos_token_id is not None:
        ids.append(int(tokenizer.eos_token_id))
    end_of_turn = tokenizer.convert_tokens_to_ids("<end_of_turn>")
    if isinstance(end_of_turn, int) and end_of_turn != tokenizer.unk_token_id:
        ids.append(end_of_turn)
    return tuple(ids)

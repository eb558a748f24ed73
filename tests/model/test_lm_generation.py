"""The decode loop: same tokens as transformers' generate, min-p, stop strings, cancellation, the worker."""

from __future__ import annotations

import threading

import pytest
import torch

from pushkin.model.generation import SamplingOptions, pick_next_token, stream_text, stream_token_ids
from pushkin.model.registry import Mode
from pushkin.model.worker import ModelWorker, WorkerState


def test_greedy_loop_matches_transformers_generate(composed):
    composed.compose(Mode.REWRITE)
    ids = composed.encode("Make that more formal.")
    ours = list(stream_token_ids(composed.model, input_ids=ids, options=SamplingOptions(max_new_tokens=12, temperature=0)))
    with torch.inference_mode():
        theirs = composed.model.generate(input_ids=ids, max_new_tokens=12, do_sample=False, eos_token_id=None,
                                         attention_mask=torch.ones_like(ids))
    assert ours == theirs[0, ids.shape[1]:].tolist()


def test_embeds_path_equals_ids_path(composed):
    composed.compose(Mode.DICTATION)
    ids = composed.encode("Быстрая лиса")
    options = SamplingOptions(max_new_tokens=8, temperature=0)
    from_ids = list(stream_token_ids(composed.model, input_ids=ids, options=options))
    from_embeds = list(stream_token_ids(composed.model, inputs_embeds=composed.embed(ids), options=options))
    assert from_ids == from_embeds and len(from_ids) == 8


def test_min_p_drops_unlikely_tokens():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    gen = torch.Generator().manual_seed(0)
    options = SamplingOptions(temperature=1.0, min_p=0.5)
    picks = {int(pick_next_token(logits, options, gen)) for _ in range(300)}
    assert picks == {0, 1}  # 0.15 and 0.05 are below half of 0.5
    loose = {int(pick_next_token(logits, SamplingOptions(temperature=1.0, min_p=0.0), gen)) for _ in range(300)}
    assert loose == {0, 1, 2, 3}


def test_sampling_options_reject_bad_values():
    with pytest.raises(ValueError, match="min_p"):
        SamplingOptions(min_p=1.5)
    with pytest.raises(ValueError, match="temperature"):
        SamplingOptions(temperature=-1)
    with pytest.raises(ValueError, match="max_new_tokens"):
        SamplingOptions(max_new_tokens=0)


def test_seeded_sampling_repeats(composed):
    composed.compose(Mode.AUTOCOMPLETE)
    options = SamplingOptions(max_new_tokens=10, temperature=1.0, min_p=0.05, seed=7)
    first = list(stream_token_ids(composed.model, input_ids=composed.encode("The sea"), options=options))
    again = list(stream_token_ids(composed.model, input_ids=composed.encode("The sea"), options=options))
    assert first == again


def test_stop_strings_end_the_text(composed):
    composed.compose(Mode.AUTOCOMPLETE)
    options = SamplingOptions(max_new_tokens=40, temperature=0)
    full = "".join(stream_text(composed.model, composed.tokenizer, input_ids=composed.encode("Hello"), options=options,
                               stop_ids=()))
    assert len(full) > 4
    stop = full[2:4]
    cut = "".join(stream_text(composed.model, composed.tokenizer, input_ids=composed.encode("Hello"),
                              options=SamplingOptions(max_new_tokens=40, temperature=0, stop_strings=(stop,)), stop_ids=()))
    assert cut == full[: full.find(stop)]


def test_cancellation_stops_generation_at_the_next_token(composed):
    cancel = threading.Event()
    produced = []
    for token in stream_token_ids(composed.model, input_ids=composed.encode("Hello"),
                                  options=SamplingOptions(max_new_tokens=100, temperature=0), cancel=cancel):
        produced.append(token)
        if len(produced) == 3:
            cancel.set()
    assert len(produced) == 3


def test_worker_loads_lazily_once_and_streams_with_cancellation(composed):
    calls = []

    def loader(progress):
        calls.append(threading.current_thread().name)
        progress(0.5, "half way")
        return composed

    worker = ModelWorker(loader, name="test-model-worker")
    try:
        assert worker.status().state is WorkerState.NOT_LOADED and not calls
        thread_name = worker.submit(lambda lm: threading.current_thread().name).result(timeout=30)
        assert thread_name == "test-model-worker" and calls == ["test-model-worker"]
        assert worker.status().state is WorkerState.READY
        # Thousands of tokens would take the tiny model many seconds: only the cancellation ends it early.
        options = SamplingOptions(max_new_tokens=5000, temperature=1.0, min_p=0.0, seed=1)
        handle = worker.stream(lambda lm, cancel: stream_token_ids(lm.model, input_ids=lm.encode("Hello"),
                                                                   options=options, stop_ids=(), cancel=cancel))
        received = []
        for token in handle:
            received.append(token)
            handle.cancel()
        assert 0 < len(received) < 200
        worker.submit(lambda lm: None).result(timeout=30)
        assert calls == ["test-model-worker"]  # loaded once
    finally:
        worker.shutdown()
    assert worker.status().state is WorkerState.STOPPED
    with pytest.raises(RuntimeError, match="stopped"):
        worker.submit(lambda lm: None).result(timeout=5)


def test_worker_reports_a_failed_load_and_retries():
    attempts = []

    def loader(progress):
        attempts.append(1)
        if len(attempts) == 1:
            raise FileNotFoundError("the model weights 'google/gemma-3-4b-pt' are not available")
        return "model"

    worker = ModelWorker(loader)
    try:
        with pytest.raises(FileNotFoundError):
            worker.submit(lambda m: m).result(timeout=10)
        status = worker.status()
        assert status.state is WorkerState.FAILED and "gemma-3-4b-pt" in status.message
        assert worker.submit(lambda m: m).result(timeout=10) == "model"
        assert worker.status().state is WorkerState.READY
    finally:
        worker.shutdown()


def test_bytes_that_never_form_a_character_still_stream(composed):
    """Byte-level BPE can emit lone continuation bytes; the stream must not wait for them forever."""
    tokenizer = composed.tokenizer
    lone = tokenizer.convert_tokens_to_ids("½")  # the byte 0xBD alone: never valid UTF-8
    assert tokenizer.decode([lone]) == "\ufffd"

    class RepeatsOneToken:
        """A model whose logits always pick ``lone``: the real decode loop drives it."""

        def __call__(self, input_ids=None, inputs_embeds=None, past_key_values=None, **kwargs):
            length = (input_ids if input_ids is not None else inputs_embeds).shape[1]
            logits = torch.zeros(1, length, len(tokenizer))
            logits[..., lone] = 1.0
            return type("Out", (), {"logits": logits, "past_key_values": past_key_values})()

    pieces = list(stream_text(RepeatsOneToken(), tokenizer, input_ids=composed.encode("x"),
                              options=SamplingOptions(max_new_tokens=12, temperature=0), stop_ids=()))
    assert len(pieces) > 1  # streamed as it came, not held back to the end
    assert "".join(pieces) == tokenizer.decode([lone] * 12)

"""The audio and silence tokens load_base adds to a real-style tokenizer: sensible rows, never generated.

The tiny base here is built like a real Gemma 3 checkpoint: its tokenizer lacks those tokens and its output
layer is tied to the embeddings, so the rows load_base adds are output rows too.
"""

from __future__ import annotations

import pytest
import torch

from pushkin.model.generation import SamplingOptions, stream_text, stream_token_ids
from pushkin.model.loading import LoadOptions, load_base
from pushkin.model.tiny import TinyGemmaOptions, build_tiny_gemma
from pushkin.model.tokens import input_only_ids


@pytest.fixture(scope="module")
def plain_base(tmp_path_factory):
    torch.set_num_threads(1)
    return build_tiny_gemma(tmp_path_factory.mktemp("plain-gemma"), TinyGemmaOptions(input_only_tokens=False))


def test_added_rows_are_the_mean_of_the_existing_rows(plain_base):
    loaded = load_base(LoadOptions(model=str(plain_base)))
    weight = loaded.model.get_input_embeddings().weight
    added = input_only_ids(loaded.tokenizer)
    assert len(added) == 5 and min(added) == weight.shape[0] - 5  # audio + four silence buckets, at the end
    assert loaded.model.get_output_embeddings().weight.data_ptr() == weight.data_ptr()  # tied, like Gemma
    mean = weight[: min(added)].mean(dim=0)
    for token in added:
        assert torch.allclose(weight[token], mean)
    # So no added token out-scores the best real one, at any position of a real prompt.
    with torch.no_grad():
        logits = loaded.model(loaded.tokenizer("The writer opened the document", return_tensors="pt").input_ids).logits
    real_best = logits[0, :, : min(added)].max(dim=-1).values
    assert (logits[0, :, list(added)].max(dim=-1).values < real_best).all()


def test_generation_never_emits_an_added_token_even_when_it_scores_best(plain_base):
    loaded = load_base(LoadOptions(model=str(plain_base)))
    added = input_only_ids(loaded.tokenizer)
    ids = loaded.tokenizer("Please rephrase that sentence.", return_tensors="pt").input_ids
    with torch.no_grad():  # the failure random rows caused: an added token on top of the next-token scores
        weight = loaded.model.get_input_embeddings().weight
        weight[added[1]] = weight[int(loaded.model(ids).logits[0, -1].argmax())] * 10
        assert int(loaded.model(ids).logits[0, -1].argmax()) == added[1]
    options = SamplingOptions(max_new_tokens=12, temperature=0.0, min_p=0.0)
    unguarded = list(stream_token_ids(loaded.model, input_ids=ids, options=options))
    assert unguarded[0] == added[1]  # the raw loop, asked for nothing suppressed, would emit it
    tokens = list(stream_token_ids(loaded.model, input_ids=ids, options=options, suppress_ids=added))
    assert tokens and not set(tokens) & set(added)
    sampled = list(stream_token_ids(loaded.model, input_ids=ids, suppress_ids=added,
                                    options=SamplingOptions(max_new_tokens=12, temperature=1.0, min_p=0.0, seed=3)))
    assert sampled and not set(sampled) & set(added)
    # stream_text suppresses them by default: the text is what the suppressed loop gives.
    text = "".join(stream_text(loaded.model, loaded.tokenizer, input_ids=ids, options=options, stop_ids=()))
    assert text == loaded.tokenizer.decode(tokens, skip_special_tokens=True)

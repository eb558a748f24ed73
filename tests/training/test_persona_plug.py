"""PersonaPlug training pieces: leak-free passage personas, and a projector that learns through the frozen LM."""

from __future__ import annotations

import numpy as np
import pytest

from pushkin.training.data import TextExample


def _examples(author_corpus):
    from pushkin.training import data as textdata

    examples = textdata.continuation_examples(textdata.read_corpus([author_corpus]), context_chars=200,
                                              completion_chars=160)
    return examples[:24], examples[24:32]


def test_passage_personas_never_attend_to_the_passage_itself(author_corpus, minilm):
    from pushkin.persona.vector import PersonaIndex
    from pushkin.training.persona_plug import passage_personas

    train, held = _examples(author_corpus)
    # One passage's prompt is its own completion: with itself in the index it would be its own persona.
    train[0] = TextExample(train[0].completion, train[0].completion, train[0].source)
    train_vectors, eval_vectors = passage_personas(train, held, minilm, top_k=1, temperature=0.1)
    assert train_vectors.shape == (24, 384) and eval_vectors.shape == (8, 384)
    assert np.allclose(np.linalg.norm(train_vectors, axis=1), 1.0, atol=1e-5)
    own = minilm.encode([train[0].completion])[0]
    assert float(train_vectors[0] @ own) < 0.999  # top_k=1 without exclusion would return `own` itself
    index = PersonaIndex.from_vectors(minilm.encode([e.completion for e in train]))
    with_itself = index.persona(minilm.encode([train[0].prompt])[0], top_k=1, temperature=0.1)
    assert float(with_itself.vector @ own) > 0.999  # the check above can fail: the leak is real without exclude


def test_projector_alone_lowers_eval_loss_through_the_frozen_model(tiny_gemma, author_corpus, minilm):
    import torch

    from pushkin.model.loading import LoadOptions, load_base
    from pushkin.training import text
    from pushkin.training.config import PersonaProjectorSettings
    from pushkin.training.persona_plug import embedding_scale, new_projector, passage_personas, with_personas

    loaded = load_base(LoadOptions(model=str(tiny_gemma), device="cpu", dtype="float32"))
    model, tokenizer = loaded.model, loaded.tokenizer
    for param in model.parameters():
        param.requires_grad_(False)
    train, held = _examples(author_corpus)
    train_vectors, eval_vectors = passage_personas(train, held, minilm, top_k=8, temperature=0.1)
    encoded_train = with_personas([text.encode_example(tokenizer, e, 96) for e in train], train_vectors)
    encoded_eval = with_personas([text.encode_example(tokenizer, e, 96) for e in held], eval_vectors)
    projector = new_projector(PersonaProjectorSettings(tokens=2), persona_dim=384,
                              hidden_size=model.config.hidden_size, embed_scale=embedding_scale(model),
                              embedding_model=minilm.model_id, seed=0)
    pad_id = tokenizer.pad_token_id
    optimizer = torch.optim.AdamW(projector.parameters(), lr=3e-3)

    before = text.mean_loss(model, encoded_eval, pad_id, "cpu", projector=projector)
    batch = text.collate(encoded_train, pad_id)
    assert batch["persona"].shape == (24, 384)
    for _ in range(6):
        loss, count = text.token_loss(model, batch, "cpu", projector)
        optimizer.zero_grad()
        (loss / count).backward()
        optimizer.step()
    after = text.mean_loss(model, encoded_eval, pad_id, "cpu", projector=projector)
    assert after < before - 0.01, (before, after)
    # Only the projector moved: the base's loss without the soft prompt is what it was.
    assert all(p.grad is None for p in model.parameters())


def test_token_loss_with_a_projector_needs_persona_vectors(tiny_gemma):
    from pushkin.model.loading import LoadOptions, load_base
    from pushkin.persona.projector import PersonaPlugProjector, ProjectorConfig
    from pushkin.training import text

    loaded = load_base(LoadOptions(model=str(tiny_gemma), device="cpu", dtype="float32"))
    batch = text.collate([text.encode_example(loaded.tokenizer, TextExample("A", "bread was baked.", "s"), 32)],
                         loaded.tokenizer.pad_token_id)
    projector = PersonaPlugProjector(ProjectorConfig(persona_dim=8, hidden_size=loaded.model.config.hidden_size))
    with pytest.raises(ValueError, match="no persona vectors"):
        text.token_loss(loaded.model, batch, "cpu", projector)

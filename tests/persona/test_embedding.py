"""The embedder's speed settings: dtype resolution, indexing threads, and bfloat16 vectors vs float32."""

from __future__ import annotations

import numpy as np
from persona_samples import AUTHOR_A, UNRELATED

from pushkin.persona.embedding import SentenceTransformerEmbedder, cpu_has_bfloat16, index_threads, resolve_dtype


def test_auto_dtype_is_bfloat16_only_where_it_is_native():
    assert resolve_dtype("float32", "cuda") == "float32" and resolve_dtype("bfloat16", "cpu") == "bfloat16"
    assert resolve_dtype("auto", "cuda:0") == "bfloat16"
    assert resolve_dtype("auto", "cpu") == ("bfloat16" if cpu_has_bfloat16() else "float32")
    assert resolve_dtype("auto", "mps") == "float32"


def test_indexing_threads_are_the_free_cores(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    monkeypatch.setattr("os.getloadavg", lambda: (0.2, 0.0, 0.0))
    assert index_threads() == 8
    monkeypatch.setattr("os.getloadavg", lambda: (5.6, 0.0, 0.0))
    assert index_threads() == 2
    monkeypatch.setattr("os.getloadavg", lambda: (12.0, 0.0, 0.0))
    assert index_threads() == 1
    assert index_threads(3) == 3


def test_bfloat16_vectors_match_float32_ones():
    texts = AUTHOR_A[:4] + [UNRELATED, "Я помню серую воду под килем всю ночь."]
    full = SentenceTransformerEmbedder(dtype="float32")
    half = SentenceTransformerEmbedder(dtype="bfloat16")
    assert full.dtype == "float32" and half.dtype == "bfloat16" and half.model_id == full.model_id
    exact, fast = full.encode(texts), half.encode(texts)
    assert fast.dtype == np.float32 and fast.shape == exact.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(exact * fast, axis=1)
    assert cosines.min() > 0.998, cosines
    # The ordering that the persona relies on survives: the user's paragraphs stay nearest each other.
    assert (exact[0] @ exact[1] > exact[0] @ exact[4]) and (fast[0] @ fast[1] > fast[0] @ fast[4])

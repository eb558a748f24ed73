"""The writing-quality reward: a learned classifier on (original, edited) pairs + the persona's rigid metrics.

    R(x | o) = w_0 · σ(f(x, o)) + Σ_k w_k · m_k(x, o),     w = softmax(θ)  (non-negative, summing to 1)

* ``f`` — :class:`PairClassifier`: an MLP on sentence embeddings ``[e(x), e(x) - e(o)]`` (384-dim
  all-MiniLM-L6-v2 by default, frozen), trained with the Bradley–Terry loss
  ``-log σ(f(chosen, o) - f(rejected, o))``; a pair "the edit beats the original" is chosen = edited,
  rejected = o.
* ``m_k`` — the embedding-free components of the persona work's style metrics
  (:func:`pushkin.persona.metrics.score_style`): n-gram style match, TTR and MTLD consistency, sentence
  length distribution, generic-phrase penalty, n-gram novelty against the original, LZMA compression
  consistency; each in [0, 1], against a :class:`~pushkin.persona.metrics.StyleProfile` of the author's
  corpus.
* ``θ`` (and a sharpness ``τ``) are fitted after the classifier with the same Bradley–Terry loss on
  ``τ (R(chosen | o) - R(rejected | o))``, so the weights say how much each part predicts the preferred edit.

A trained reward is a folder: ``classifier.safetensors`` (with its sizes in the metadata) and
``reward.json`` (the weights by name, τ, the encoder, the profile texts' source).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pushkin.persona.embedding import Embedder

CLASSIFIER_FILE = "classifier.safetensors"
REWARD_FILE = "reward.json"
METRICS = ("ngram_match", "ttr", "mtld", "sentence_lengths", "generic", "novelty", "compression")
PARTS = ("classifier",) + METRICS


class PairClassifier(nn.Module):
    """``(B, E)`` embeddings of candidate and original → ``(B,)`` preference logits."""

    def __init__(self, dim: int, hidden: int = 256) -> None:
        super().__init__()
        self.dim, self.hidden = dim, hidden
        self.net = nn.Sequential(nn.Linear(2 * dim, hidden), nn.GELU(), nn.Linear(hidden, 1))

    def forward(self, candidate: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([candidate, candidate - original], dim=-1)).squeeze(-1)


def bradley_terry_loss(better: torch.Tensor, worse: torch.Tensor) -> torch.Tensor:
    """Mean ``-log σ(better - worse)``."""
    return -torch.nn.functional.logsigmoid(better - worse).mean()


class MetricScorer:
    """The rigid metrics of one text against a style profile, as a ``(len(METRICS),)`` vector in [0, 1]."""

    def __init__(self, profile_texts: Sequence[str]) -> None:
        from pushkin.persona.metrics import StyleProfile, StyleWeights

        self.profile = StyleProfile.from_texts(profile_texts)
        share = 1.0 / len(METRICS)
        # score_style needs weights summing to 1; only the components are used here (the mix is learned).
        self.weights = StyleWeights(alignment=0.0, continuity=0.0, ngram_match=share, ttr=share, mtld=share,
                                    sentence_lengths=share, generic=share, novelty=share,
                                    compression=1.0 - share * (len(METRICS) - 1))

    def __call__(self, text: str, original: str) -> np.ndarray:
        from pushkin.persona.metrics import score_style

        if not text.strip():
            return np.zeros(len(METRICS), dtype=np.float32)
        scores = score_style(text, self.profile, weights=self.weights, reference=original)
        return np.array([scores.components[m] for m in METRICS], dtype=np.float32)


def default_embedder(name: str = ""):
    """The sentence embedder (persona work's wrapper; the packaged all-MiniLM-L6-v2 when ``name`` is empty)."""
    from pushkin.persona.embedding import DEFAULT_EMBEDDING_MODEL, SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(name or DEFAULT_EMBEDDING_MODEL)


@dataclass
class WritingReward:
    """A trained reward: call :meth:`score` / :meth:`score_many`."""

    classifier: PairClassifier
    logits: torch.Tensor  # θ, (len(PARTS),)
    sharpness: float
    embedder: Embedder
    metrics: MetricScorer
    encoder_name: str = ""

    @property
    def weights(self) -> dict[str, float]:
        return dict(zip(PARTS, torch.softmax(self.logits, 0).tolist()))

    def parts(self, candidates: Sequence[str], originals: Sequence[str]) -> torch.Tensor:
        """``(N, len(PARTS))``: σ(classifier) and the metrics, each in [0, 1]."""
        vectors = torch.from_numpy(np.asarray(self.embedder.encode(list(candidates) + list(originals)), np.float32))
        cand, orig = vectors[: len(candidates)], vectors[len(candidates):]
        with torch.no_grad():
            learned = torch.sigmoid(self.classifier(cand, orig))
        rigid = torch.from_numpy(np.stack([self.metrics(c, o) for c, o in zip(candidates, originals)]))
        return torch.cat([learned[:, None], rigid], dim=1)

    def score_many(self, candidates: Sequence[str], originals: Sequence[str]) -> list[float]:
        weights = torch.softmax(self.logits, 0)
        return (self.parts(candidates, originals) @ weights).tolist()

    def score(self, candidate: str, original: str) -> float:
        return self.score_many([candidate], [original])[0]

    def save(self, folder: str | Path, profile_texts: Sequence[str]) -> Path:
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in self.classifier.state_dict().items()}, str(folder / CLASSIFIER_FILE),
                  metadata={"dim": str(self.classifier.dim), "hidden": str(self.classifier.hidden)})
        (folder / REWARD_FILE).write_text(json.dumps({
            "weights": self.weights, "logits": self.logits.tolist(), "sharpness": self.sharpness,
            "encoder": self.encoder_name, "profile_texts": list(profile_texts),
        }, ensure_ascii=False, indent=1))
        return folder

    @classmethod
    def load(cls, folder: str | Path, embedder=None) -> WritingReward:
        from safetensors import safe_open
        from safetensors.torch import load_file

        folder = Path(folder)
        for needed in (CLASSIFIER_FILE, REWARD_FILE):
            if not (folder / needed).is_file():
                raise FileNotFoundError(f"{folder} is not a trained reward (no {needed}); run train_reward first")
        with safe_open(str(folder / CLASSIFIER_FILE), "pt") as f:
            meta = f.metadata() or {}
        classifier = PairClassifier(int(meta["dim"]), int(meta["hidden"]))
        classifier.load_state_dict(load_file(str(folder / CLASSIFIER_FILE)))
        classifier.eval()
        data = json.loads((folder / REWARD_FILE).read_text(encoding="utf-8"))
        return cls(classifier, torch.tensor(data["logits"]), float(data["sharpness"]),
                   embedder or default_embedder(data.get("encoder", "")), MetricScorer(data["profile_texts"]),
                   data.get("encoder", ""))


def pairwise_accuracy(better: Sequence[float], worse: Sequence[float]) -> float:
    """Share of pairs the score orders correctly (ties count half)."""
    if not better:
        return math.nan
    return sum(1.0 if b > w else 0.5 if b == w else 0.0 for b, w in zip(better, worse)) / len(better)

"""Style metrics: the rigid part of the writing-quality reward (best-of-n, DPO pair ranking, evaluation).

Every metric is a plain function with its formula in the docstring. Texts are tokenized by
:func:`tokenize` (Unicode words, so Russian and English alike) and split by :func:`split_sentences`.
The user's corpus is summarized once in a :class:`StyleProfile`; :func:`score_style` compares a candidate
text with it and combines the components into one composite score in [0, 1] with weights that sum to 1
(:class:`StyleWeights`).

Notation: ``tokens(x)`` the word tokens of x, N their number, ``G_n(x)`` the multiset of word n-grams of x
(never across paragraphs of the corpus), ``D_n(x)`` the set of distinct n-grams.
"""

from __future__ import annotations

import dataclasses
import functools
import lzma
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Sentences as the style metrics count them; the rule is the text module's.
from pushkin.text.units import STYLE_TOKEN
from pushkin.text.units import prose_sentences as split_sentences

from .embedding import Embedder

# ---------------------------------------------------------------------------------------------------
# Tokenization
# ---------------------------------------------------------------------------------------------------

def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens (see units.STYLE_TOKEN); ``ё`` is folded into ``е``, typographic apostrophes into ``'``."""
    return [
        match.group(0).casefold().replace("ё", "е").replace("’", "'")
        for match in STYLE_TOKEN.finditer(text)
    ]


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    """The n-grams of a token sequence in order: ``len(tokens) - n + 1`` of them (none when shorter)."""
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def _hashed_ngrams(tokens: Sequence[str], n: int) -> np.ndarray:
    # Python's hash is salted per process: these arrays live in memory only and are never stored.
    return np.fromiter((hash(g) for g in ngrams(tokens, n)), dtype=np.int64)


# ---------------------------------------------------------------------------------------------------
# Single-text measures
# ---------------------------------------------------------------------------------------------------


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """``a·b / (|a| |b|)``; 0 when either vector is zero."""
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"vectors of lengths {a.shape[0]} and {b.shape[0]}")
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / denominator if denominator > 0 else 0.0


def persona_alignment(text_vector: np.ndarray, persona_vector: np.ndarray) -> float:
    """Persona-vector alignment: ``cos(e(text), p) = e·p / (|e| |p|)`` in [-1, 1].

    ``e(text)`` is the text's sentence embedding, ``p`` the user's persona vector (the mean, or the
    context-weighted persona). 0 when either vector is zero.
    """
    return cosine(text_vector, persona_vector)


def type_token_ratio(tokens: Sequence[str], window: int = 50) -> float:
    """Type-token ratio, length-corrected as the moving-average TTR (MATTR, Covington & McFall 2010).

    ``N <= window``: ``TTR = V / N`` (V distinct tokens). Otherwise the mean over the ``N - window + 1``
    windows of ``window`` consecutive tokens of ``V_w / window``. 0 for no tokens.
    """
    n = len(tokens)
    if n == 0:
        return 0.0
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    if n <= window:
        return len(set(tokens)) / n
    counts: dict[str, int] = {}
    for token in tokens[:window]:
        counts[token] = counts.get(token, 0) + 1
    total = len(counts)
    for i in range(window, n):
        incoming, outgoing = tokens[i], tokens[i - window]
        counts[incoming] = counts.get(incoming, 0) + 1
        counts[outgoing] -= 1
        if counts[outgoing] == 0:
            del counts[outgoing]
        total += len(counts)
    return total / ((n - window + 1) * window)


def relative_consistency(value: float, reference: float) -> float:
    """``max(0, 1 - |value - reference| / reference)``: 1 at the reference, 0 at twice (or zero) of it.

    A reference of 0 gives 1 when the value is also 0, else 0.
    """
    if reference <= 0:
        return 1.0 if value == reference else 0.0
    return max(0.0, 1.0 - abs(value - reference) / reference)


def ttr_consistency(text_ttr: float, corpus_ttr: float) -> float:
    """Type-token-ratio consistency: ``max(0, 1 - |TTR_text - TTR_corpus| / TTR_corpus)`` in [0, 1]."""
    return relative_consistency(text_ttr, corpus_ttr)


def _mtld_pass(tokens: Sequence[str], threshold: float) -> float:
    factors = 0.0
    types: set[str] = set()
    count = 0
    for token in tokens:
        count += 1
        types.add(token)
        if len(types) / count <= threshold:
            factors += 1.0
            types.clear()
            count = 0
    if count > 0:
        factors += (1.0 - len(types) / count) / (1.0 - threshold)
    return len(tokens) / factors if factors > 0 else float(len(tokens))


def mtld(tokens: Sequence[str], threshold: float = 0.72) -> float:
    """Measure of textual lexical diversity (McCarthy & Jarvis 2010).

    One pass reads the tokens left to right keeping the running TTR of the current segment; each time it
    falls to ``threshold`` or below a factor is counted and the segment restarts. The remainder adds the
    partial factor ``(1 - TTR_rest) / (1 - threshold)``. A pass scores ``N / factors`` (``N`` when no
    factor accrued: the text never lost diversity). MTLD is the mean of the forward and backward passes.
    0 for no tokens.
    """
    if not tokens:
        return 0.0
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    return (_mtld_pass(tokens, threshold) + _mtld_pass(list(reversed(tokens)), threshold)) / 2.0


# Sentence lengths in words, bins [1-5], [6-10], [11-15], [16-20], [21-25], [26-35], [36-50], [51+].
SENTENCE_LENGTH_EDGES = (5, 10, 15, 20, 25, 35, 50)


def sentence_lengths(text: str) -> list[int]:
    """The number of word tokens of each sentence of ``text``."""
    return [len(tokenize(sentence)) for sentence in split_sentences(text)]


def sentence_length_histogram(lengths: Iterable[int]) -> np.ndarray:
    """Counts of sentence lengths in the bins of SENTENCE_LENGTH_EDGES: ``(len(EDGES) + 1,)`` float64."""
    counts = np.zeros(len(SENTENCE_LENGTH_EDGES) + 1, dtype=np.float64)
    for length in lengths:
        if length > 0:
            counts[int(np.searchsorted(SENTENCE_LENGTH_EDGES, length, side="left"))] += 1
    return counts


def sentence_length_kl(text_counts: np.ndarray, corpus_counts: np.ndarray, alpha: float = 0.5) -> float:
    """Sentence-length-distribution KL divergence ``KL(P_text ‖ Q_corpus)`` in nats.

    With B bins, counts ``c_b`` (text) and ``d_b`` (corpus), smoothed with ``alpha`` so that no bin is
    empty: ``P_b = (c_b + α) / (Σc + Bα)``, ``Q_b = (d_b + α) / (Σd + Bα)``, ``KL = Σ_b P_b ln(P_b / Q_b)``.
    0 when the distributions agree.
    """
    c = np.asarray(text_counts, dtype=np.float64)
    d = np.asarray(corpus_counts, dtype=np.float64)
    if c.shape != d.shape:
        raise ValueError(f"histograms of shapes {c.shape} and {d.shape}")
    if alpha <= 0:
        raise ValueError(f"alpha must be positive, got {alpha}")
    p = (c + alpha) / (c.sum() + alpha * len(c))
    q = (d + alpha) / (d.sum() + alpha * len(d))
    return float(np.sum(p * np.log(p / q)))


@functools.lru_cache(maxsize=1)
def load_generic_phrases() -> tuple[tuple[str, ...], ...]:
    """The maintained list (``persona/data/generic_phrases.txt``, English and Russian), tokenized."""
    path = Path(__file__).resolve().parent / "data" / "generic_phrases.txt"
    phrases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or (line.startswith("[") and line.endswith("]")):
            continue
        tokens = tuple(tokenize(line))
        if tokens:
            phrases.append(tokens)
    return tuple(phrases)


def count_phrases(tokens: Sequence[str], phrases: Iterable[Sequence[str]]) -> int:
    """Occurrences of any phrase (a token sequence) in ``tokens``, overlaps counted."""
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        phrase = tuple(phrase)
        if phrase:
            by_first.setdefault(phrase[0], []).append(phrase)
    hits = 0
    for i, token in enumerate(tokens):
        for phrase in by_first.get(token, ()):
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                hits += 1
    return hits


def generic_phrase_penalty(text: str, phrases: Iterable[Sequence[str]] | None = None) -> float:
    """Generic-phrase penalty: ``min(1, hits / S)`` in [0, 1].

    ``hits``: occurrences of the listed phrases (matched on tokens; the maintained list when ``phrases``
    is None; phrases given as strings are tokenized), ``S``: the number of sentences (at least 1). One
    cliché per sentence is the full penalty.
    """
    if phrases is None:
        phrase_tokens: Iterable[Sequence[str]] = load_generic_phrases()
    else:
        phrase_tokens = [tuple(tokenize(p)) if isinstance(p, str) else tuple(p) for p in phrases]
    hits = count_phrases(tokenize(text), phrase_tokens)
    return min(1.0, hits / max(1, len(split_sentences(text))))


def ngram_novelty(text: str, reference: str | Sequence[str], n: int = 4) -> float:
    """N-gram novelty: the share of the text's distinct n-grams that the reference does not contain.

    ``novelty = |D_n(text) \\ D_n(ref)| / |D_n(text)|`` in [0, 1], where ``ref`` is the source or context
    the text was produced from (several texts are pooled). 1 when the text has no n-gram (nothing copied).
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    text_grams = set(ngrams(tokenize(text), n))
    if not text_grams:
        return 1.0
    references = [reference] if isinstance(reference, str) else list(reference)
    reference_grams: set[tuple[str, ...]] = set()
    for item in references:
        reference_grams.update(ngrams(tokenize(item), n))
    return len(text_grams - reference_grams) / len(text_grams)


def _lzma_filters(length: int) -> list[dict]:
    # Preset 9e, with a dictionary just large enough for the text: the output is the same as with the
    # preset's 64 MiB dictionary, but each call no longer allocates (and clears) hundreds of MiB.
    dict_size = min(1 << 26, max(1 << 12, 1 << max(0, length - 1).bit_length()))
    return [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "dict_size": dict_size}]


def lzma_compression_ratio(text: str) -> float:
    """LZMA compression ratio: ``len(LZMA2_raw(utf8(text))) / len(utf8(text))``; 0 for an empty text.

    A raw LZMA2 stream (preset 9e, no .xz container) keeps the header overhead out of short texts.
    Repetitive text compresses well (low ratio); varied text does not.
    """
    data = text.encode("utf-8")
    if not data:
        return 0.0
    return len(lzma.compress(data, format=lzma.FORMAT_RAW, filters=_lzma_filters(len(data)))) / len(data)


def continuity_of_vectors(sentence_vectors: np.ndarray) -> float:
    """Adjacent-sentence semantic continuity: ``mean_{i<S} cos(v_i, v_{i+1})`` over ``(S, E)`` vectors.

    1 for fewer than two sentences (nothing to break).
    """
    vectors = np.asarray(sentence_vectors, dtype=np.float64)
    if vectors.ndim != 2:
        raise ValueError(f"expected (S, E) sentence vectors, got shape {vectors.shape}")
    if len(vectors) < 2:
        return 1.0
    return float(np.mean([cosine(vectors[i], vectors[i + 1]) for i in range(len(vectors) - 1)]))


def semantic_continuity(text: str, embedder: Embedder) -> float:
    """Adjacent-sentence semantic continuity of ``text``: the sentences embedded, then
    :func:`continuity_of_vectors`: ``mean_i cos(e(s_i), e(s_{i+1}))``."""
    sentences = split_sentences(text)
    if len(sentences) < 2:
        return 1.0
    return continuity_of_vectors(embedder.encode(sentences))


# ---------------------------------------------------------------------------------------------------
# The user's corpus and comparisons with it
# ---------------------------------------------------------------------------------------------------

NGRAM_ORDERS = (2, 3, 4, 5)


@dataclass(frozen=True)
class StyleProfile:
    """What the user's corpus looks like, for comparisons (built by :meth:`from_texts`).

    ``ngram_hashes[n]``: sorted distinct hashes of the corpus's n-grams (in-memory only).
    ``sentence_length_counts``: the histogram of sentence lengths (SENTENCE_LENGTH_EDGES).
    ``ttr``, ``mtld``, ``compression_ratio``: medians over the corpus's paragraphs.
    ``persona_vector``: ``(E,)`` or None when the profile was built without embeddings.
    """

    paragraph_count: int
    token_count: int
    sentence_count: int
    ngram_hashes: Mapping[int, np.ndarray] = dataclasses.field(repr=False)
    sentence_length_counts: np.ndarray
    ttr: float
    mtld: float
    compression_ratio: float
    mean_sentence_length: float
    cyrillic_share: float  # of the letters, the share that are Cyrillic
    persona_vector: np.ndarray | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def from_texts(
        cls, texts: Iterable[str], persona_vector: np.ndarray | None = None, *, ttr_window: int = 50
    ) -> StyleProfile:
        grams: dict[int, list[np.ndarray]] = {n: [] for n in NGRAM_ORDERS}
        ttrs, mtlds, ratios, lengths = [], [], [], []
        token_count = 0
        cyrillic = latin = 0
        paragraph_count = 0
        for text in texts:
            tokens = tokenize(text)
            if not tokens:
                continue
            paragraph_count += 1
            token_count += len(tokens)
            for n in NGRAM_ORDERS:
                grams[n].append(_hashed_ngrams(tokens, n))
            ttrs.append(type_token_ratio(tokens, ttr_window))
            mtlds.append(mtld(tokens))
            ratios.append(lzma_compression_ratio(text))
            lengths.extend(sentence_lengths(text))
            for ch in text:
                if "а" <= ch.lower() <= "я" or ch in "ёЁ":
                    cyrillic += 1
                elif "a" <= ch.lower() <= "z":
                    latin += 1
        hashes = {
            n: np.unique(np.concatenate(parts)) if parts else np.empty(0, np.int64) for n, parts in grams.items()
        }
        return cls(
            paragraph_count=paragraph_count,
            token_count=token_count,
            sentence_count=len(lengths),
            ngram_hashes=hashes,
            sentence_length_counts=sentence_length_histogram(lengths),
            ttr=float(np.median(ttrs)) if ttrs else 0.0,
            mtld=float(np.median(mtlds)) if mtlds else 0.0,
            compression_ratio=float(np.median(ratios)) if ratios else 0.0,
            mean_sentence_length=float(np.mean(lengths)) if lengths else 0.0,
            cyrillic_share=cyrillic / (cyrillic + latin) if cyrillic + latin else 0.0,
            persona_vector=None if persona_vector is None else np.asarray(persona_vector, dtype=np.float32),
        )


def ngram_style_match(text: str, profile: StyleProfile, orders: Sequence[int] = NGRAM_ORDERS) -> float:
    """N-gram style match with the user's corpus, 2- to 5-grams by default.

    ``match_n = |{g ∈ G_n(text) : g ∈ G_n(corpus)}| / |G_n(text)|`` (every occurrence counts), and the
    score is the mean of ``match_n`` over the orders the text is long enough for; 0 when it has none.
    """
    tokens = tokenize(text)
    matches = []
    for n in orders:
        corpus = profile.ngram_hashes.get(n)
        if corpus is None:
            raise ValueError(f"the profile holds no {n}-grams (it has {sorted(profile.ngram_hashes)})")
        grams = _hashed_ngrams(tokens, n)
        if len(grams) == 0:
            continue
        matches.append(float(_in_sorted(grams, corpus).mean()))
    return float(np.mean(matches)) if matches else 0.0


def _in_sorted(values: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    """``np.isin(values, ordered)`` for a sorted ``ordered``, by binary search: isin sorts the corpus's
    n-grams again on every call, which made the reward's metrics cost ~25 ms a text on a 6,000-paragraph
    profile."""
    if len(ordered) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    return ordered[at] == values


@dataclass(frozen=True)
class StyleWeights:
    """Weights of the composite score; each non-negative, together summing to 1 (checked)."""

    alignment: float = 0.20
    ngram_match: float = 0.15
    ttr: float = 0.10
    mtld: float = 0.10
    sentence_lengths: float = 0.10
    generic: float = 0.10
    novelty: float = 0.10
    compression: float = 0.05
    continuity: float = 0.10

    def __post_init__(self) -> None:
        values = dataclasses.asdict(self)
        negative = [name for name, value in values.items() if not value >= 0]
        if negative:
            raise ValueError(f"style weights must not be negative: {', '.join(negative)}")
        total = math.fsum(values.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"style weights must sum to 1, they sum to {total:.6f}")


@dataclass(frozen=True)
class StyleScores:
    """Raw metric values, their [0, 1] component scores (higher is better) and the composite."""

    alignment: float  # cosine in [-1, 1]
    ngram_match: float
    ttr: float
    mtld: float
    sentence_length_kl: float
    generic_penalty: float
    novelty: float
    compression_ratio: float
    continuity: float  # mean cosine in [-1, 1]
    components: Mapping[str, float]
    composite: float


def composite_score(components: Mapping[str, float], weights: StyleWeights = StyleWeights()) -> float:
    """``Σ_k w_k s_k`` over the weight names k; each component ``s_k`` must lie in [0, 1]."""
    total = 0.0
    for field in dataclasses.fields(weights):
        if field.name not in components:
            raise ValueError(f"no component score {field.name!r}")
        value = components[field.name]
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"component {field.name!r} = {value} is outside [0, 1]")
        total += getattr(weights, field.name) * value
    return total


def score_style(
    text: str,
    profile: StyleProfile,
    *,
    embedder: Embedder | None = None,
    persona_vector: np.ndarray | None = None,
    reference: str | Sequence[str] = "",
    weights: StyleWeights = StyleWeights(),
    novelty_n: int = 4,
) -> StyleScores:
    """Every metric of ``text`` against the user's profile, and the composite.

    Component scores (each in [0, 1], higher is better):
    alignment ``(cos + 1) / 2`` (persona: ``persona_vector`` or the profile's); ngram_match as is;
    ttr ``ttr_consistency(TTR_text, TTR_corpus)``; mtld ``relative_consistency(MTLD_text, MTLD_corpus)``;
    sentence_lengths ``exp(-KL)``; generic ``1 - penalty``; novelty against ``reference`` (1 when there is
    none); compression ``relative_consistency(ratio_text, ratio_corpus)``; continuity ``max(0, mean cos)``.
    ``embedder`` is needed for alignment and continuity (unless their weights are 0).
    """
    tokens = tokenize(text)
    persona = persona_vector if persona_vector is not None else profile.persona_vector
    needs_embedder = weights.alignment > 0 or weights.continuity > 0
    if needs_embedder and embedder is None:
        raise ValueError("score_style needs an embedder for alignment and continuity (or give them weight 0)")
    if weights.alignment > 0 and persona is None:
        raise ValueError("score_style needs a persona vector for alignment (or give alignment weight 0)")

    alignment, continuity = 0.0, 1.0
    if weights.alignment > 0:
        assert embedder is not None and persona is not None  # refused above
        alignment = persona_alignment(embedder.encode([text])[0], persona)
    if weights.continuity > 0:
        assert embedder is not None  # refused above
        continuity = semantic_continuity(text, embedder)
    match = ngram_style_match(text, profile)
    ttr = type_token_ratio(tokens)
    lexical_diversity = mtld(tokens)
    kl = sentence_length_kl(sentence_length_histogram(sentence_lengths(text)), profile.sentence_length_counts)
    penalty = generic_phrase_penalty(text)
    has_reference = bool(reference) and (isinstance(reference, str) or any(reference))
    novelty = ngram_novelty(text, reference, novelty_n) if has_reference else 1.0
    ratio = lzma_compression_ratio(text)
    components = {
        "alignment": max(0.0, min(1.0, (alignment + 1.0) / 2.0)),
        "ngram_match": match,
        "ttr": ttr_consistency(ttr, profile.ttr),
        "mtld": relative_consistency(lexical_diversity, profile.mtld),
        "sentence_lengths": math.exp(-kl),
        "generic": 1.0 - penalty,
        "novelty": novelty,
        "compression": relative_consistency(ratio, profile.compression_ratio),
        "continuity": max(0.0, min(1.0, continuity)),
    }
    return StyleScores(
        alignment=alignment,
        ngram_match=match,
        ttr=ttr,
        mtld=lexical_diversity,
        sentence_length_kl=kl,
        generic_penalty=penalty,
        novelty=novelty,
        compression_ratio=ratio,
        continuity=continuity,
        components=components,
        composite=composite_score(components, weights),
    )

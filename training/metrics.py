"""Text and speech metrics for `evaluate`: ROUGE-1/2/L, BLEU, exact match, Jaccard, WER/CER.

Words are ``\\w+`` runs of the lowercased text (Unicode-aware, so Russian works); every score is in
[0, 1]. Formulas:

- ROUGE-N F1 = 2·P·R/(P+R) with P = |overlap of n-gram multisets| / |candidate n-grams| and
  R = overlap / |reference n-grams|.
- ROUGE-L F1 from the longest common subsequence of words: P = LCS/|candidate|, R = LCS/|reference|.
- BLEU (corpus level) = BP · exp(mean over n=1..4 of log p_n), p_n the clipped n-gram precision summed
  over the corpus with add-one smoothing for n > 1, BP = exp(1 - r/c) when the candidates are shorter.
- Exact match: the whitespace-normalized strings are equal.
- Jaccard: |A ∩ B| / |A ∪ B| over the sets of words (1 when both are empty).
- WER / CER: jiwer's word and character error rates over the corpus.
- sacreBLEU: the sacrebleu package's corpus BLEU (its own 13a tokenizer, case kept), divided by 100; the
  figure papers report, beside the word-level BLEU above. None when sacrebleu is not installed.
- Length ratio: candidate words / reference words, summed over the corpus.
- Language match: the share of candidates written in the expected script language (EN/RU by the share of
  Cyrillic letters); an empty candidate never matches.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pushkin.text import units
from pushkin.text_lora.tasks import is_mostly_cyrillic


def words(text: str) -> list[str]:
    """The lower-cased words the metrics compare (the text module's words)."""
    return units.words(text.lower())


normalize = units.fold_whitespace  # exact match compares texts with their spacing folded


def _ngrams(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def _f1(overlap: float, candidate: float, reference: float) -> float:
    if candidate == 0 or reference == 0 or overlap == 0:
        return 0.0
    precision, recall = overlap / candidate, overlap / reference
    return 2 * precision * recall / (precision + recall)


def rouge_n(candidate: str, reference: str, n: int) -> float:
    c, r = _ngrams(words(candidate), n), _ngrams(words(reference), n)
    return _f1(sum((c & r).values()), sum(c.values()), sum(r.values()))


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    if not a or not b:
        return 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, 1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(candidate: str, reference: str) -> float:
    c, r = words(candidate), words(reference)
    return _f1(_lcs(c, r), len(c), len(r))


def bleu(candidates: Sequence[str], references: Sequence[str], max_n: int = 4) -> float:
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates vs {len(references)} references")
    matches = [0] * max_n
    totals = [0] * max_n
    candidate_length = reference_length = 0
    for candidate, reference in zip(candidates, references):
        c, r = words(candidate), words(reference)
        candidate_length += len(c)
        reference_length += len(r)
        for n in range(1, max_n + 1):
            cn, rn = _ngrams(c, n), _ngrams(r, n)
            matches[n - 1] += sum((cn & rn).values())
            totals[n - 1] += sum(cn.values())
    if candidate_length == 0 or matches[0] == 0:
        return 0.0
    log_precision = 0.0
    for n in range(max_n):
        if n == 0:
            log_precision += math.log(matches[0] / totals[0])
        else:
            log_precision += math.log((matches[n] + 1) / (totals[n] + 1))
    brevity = 1.0 if candidate_length > reference_length else math.exp(1 - reference_length / candidate_length)
    return brevity * math.exp(log_precision / max_n)


def exact_match(candidate: str, reference: str) -> float:
    return float(normalize(candidate) == normalize(reference))


def jaccard(candidate: str, reference: str) -> float:
    a, b = set(words(candidate)), set(words(reference))
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def sacre_bleu(candidates: Sequence[str], references: Sequence[str]) -> float | None:
    """sacrebleu's corpus BLEU in [0, 1]; None when the package is not installed (the `training` extra has it)."""
    try:
        import sacrebleu
    except ImportError:
        return None
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates vs {len(references)} references")
    return float(sacrebleu.corpus_bleu(list(candidates), [list(references)]).score) / 100.0


def length_ratio(candidates: Sequence[str], references: Sequence[str]) -> float:
    total = sum(len(words(r)) for r in references)
    return sum(len(words(c)) for c in candidates) / total if total else 0.0


def script_language(text: str) -> str:
    """"ru" when most letters are Cyrillic, "en" when there are letters and most are not, "" without letters."""
    if not any(c.isalpha() for c in text):
        return ""
    return "ru" if is_mostly_cyrillic(text) else "en"  # the rule the task prompts pick their language by


def language_match(candidates: Sequence[str], languages: Sequence[str]) -> float:
    """The share of candidates whose script language is the expected one (``languages``: "en"/"ru" each)."""
    if not candidates or len(candidates) != len(languages):
        raise ValueError(f"need equal, non-zero numbers of candidates and languages "
                         f"({len(candidates)} vs {len(languages)})")
    return sum(script_language(c) == want for c, want in zip(candidates, languages)) / len(candidates)


@dataclass(frozen=True)
class TextScores:
    rouge1: float
    rouge2: float
    rougeL: float
    bleu: float
    exact_match: float
    jaccard: float
    count: int


def text_scores(candidates: Sequence[str], references: Sequence[str]) -> TextScores:
    """Mean ROUGE/EM/Jaccard over pairs and corpus BLEU."""
    if not candidates or len(candidates) != len(references):
        raise ValueError(f"need equal, non-zero numbers of candidates and references "
                         f"({len(candidates)} vs {len(references)})")
    n = len(candidates)
    pairs = list(zip(candidates, references))
    return TextScores(
        rouge1=sum(rouge_n(c, r, 1) for c, r in pairs) / n,
        rouge2=sum(rouge_n(c, r, 2) for c, r in pairs) / n,
        rougeL=sum(rouge_l(c, r) for c, r in pairs) / n,
        bleu=bleu(candidates, references),
        exact_match=sum(exact_match(c, r) for c, r in pairs) / n,
        jaccard=sum(jaccard(c, r) for c, r in pairs) / n,
        count=n,
    )


@dataclass(frozen=True)
class SpeechScores:
    wer: float
    cer: float
    exact_match: float
    count: int


def speech_scores(hypotheses: Sequence[str], references: Sequence[str]) -> SpeechScores:
    """Corpus WER/CER (jiwer) over normalized text, and the share of exact matches."""
    import jiwer

    if not hypotheses or len(hypotheses) != len(references):
        raise ValueError(f"need equal, non-zero numbers of hypotheses and references "
                         f"({len(hypotheses)} vs {len(references)})")
    refs = [normalize(r.lower()) or "<empty>" for r in references]
    hyps = [normalize(h.lower()) for h in hypotheses]
    return SpeechScores(
        wer=float(jiwer.wer(refs, hyps)),
        cer=float(jiwer.cer(refs, hyps)),
        exact_match=sum(h == r for h, r in zip(hyps, refs)) / len(refs),
        count=len(refs),
    )

"""Text and speech metrics on hand-computed examples."""

from __future__ import annotations

import math

import pytest

from pushkin.training import metrics


def test_rouge_on_a_hand_computed_pair():
    candidate, reference = "the cat sat on the mat", "the cat lay on the mat"
    # unigrams: 5 of 6 overlap both ways -> P = R = 5/6
    assert metrics.rouge_n(candidate, reference, 1) == pytest.approx(5 / 6)
    # bigrams: the cat, on the, the mat overlap: 3 of 5
    assert metrics.rouge_n(candidate, reference, 2) == pytest.approx(3 / 5)
    # LCS = the cat on the mat = 5 words
    assert metrics.rouge_l(candidate, reference) == pytest.approx(5 / 6)
    assert metrics.rouge_n("", reference, 1) == 0.0


def test_bleu_exact_and_partial():
    assert metrics.bleu(["a b c d e"], ["a b c d e"]) == pytest.approx(1.0)
    partial = metrics.bleu(["a b c x"], ["a b c d e"])
    # p1 = 3/4; p2 = (2+1)/(3+1); p3 = (1+1)/(2+1); p4 = (0+1)/(1+1); BP = exp(1 - 5/4)
    expected = math.exp(1 - 5 / 4) * math.exp((math.log(3 / 4) + math.log(3 / 4) + math.log(2 / 3) + math.log(1 / 2)) / 4)
    assert partial == pytest.approx(expected)
    assert metrics.bleu(["x y"], ["a b"]) == 0.0


def test_exact_match_and_jaccard_in_russian():
    assert metrics.exact_match("Вечером  пошёл дождь.", "Вечером пошёл дождь.") == 1.0
    assert metrics.exact_match("Вечером пошёл снег.", "Вечером пошёл дождь.") == 0.0
    assert metrics.jaccard("вечером пошёл дождь", "утром пошёл дождь") == pytest.approx(2 / 4)


def test_text_scores_means():
    scores = metrics.text_scores(["a b", "c d"], ["a b", "c e"])
    assert scores.exact_match == 0.5 and scores.count == 2
    assert scores.rouge1 == pytest.approx((1.0 + 0.5) / 2)


def test_speech_scores():
    scores = metrics.speech_scores(["command: undo", "dictate: the rain stopped"],
                                   ["command: undo", "dictate: the rain stopped before noon"])
    # words: 2 + 6 reference words, 2 deletions
    assert scores.wer == pytest.approx(2 / 8)
    assert scores.exact_match == 0.5
    with pytest.raises(ValueError):
        metrics.speech_scores([], [])


def test_sacre_bleu_length_ratio_and_language_match():
    pytest.importorskip("sacrebleu")
    assert metrics.sacre_bleu(["the cat sat on the mat ."], ["the cat sat on the mat ."]) == pytest.approx(1.0)
    assert metrics.sacre_bleu(["x y z w"], ["a b c d"]) == 0.0
    partial = metrics.sacre_bleu(["the cat sat on a mat"], ["the cat sat on the mat"])
    worse = metrics.sacre_bleu(["a cat sat on a rug"], ["the cat sat on the mat"])
    assert 0.0 < worse < partial < 1.0
    assert metrics.length_ratio(["a b", "c d e f"], ["a b c", "d e f"]) == pytest.approx(6 / 6)
    assert metrics.length_ratio(["a"], ["a b c d"]) == pytest.approx(1 / 4)
    assert metrics.script_language("Вечером пошёл дождь (rain).") == "ru"
    assert metrics.script_language("It rained, сказал он.") == "en"
    assert metrics.script_language("42 ...") == ""
    assert metrics.language_match(["Пошёл дождь.", "It rained.", ""], ["ru", "ru", "en"]) == pytest.approx(1 / 3)
    with pytest.raises(ValueError):
        metrics.language_match(["a"], [])

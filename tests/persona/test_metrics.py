"""Every style metric on hand-computed examples, and the orderings the reward relies on."""

from __future__ import annotations

import lzma
import math

import numpy as np
import pytest
from persona_samples import AUTHOR_A, AUTHOR_A_GARDEN, AUTHOR_A_UNSEEN, GENERIC, UNRELATED

from pushkin.persona.metrics import (
    StyleProfile,
    StyleWeights,
    composite_score,
    continuity_of_vectors,
    generic_phrase_penalty,
    load_generic_phrases,
    lzma_compression_ratio,
    mtld,
    ngram_novelty,
    ngram_style_match,
    ngrams,
    persona_alignment,
    relative_consistency,
    score_style,
    semantic_continuity,
    sentence_length_histogram,
    sentence_length_kl,
    sentence_lengths,
    split_sentences,
    tokenize,
    ttr_consistency,
    type_token_ratio,
)
from pushkin.persona.vector import PersonaIndex


def test_tokenize_handles_english_and_russian():
    assert tokenize("Don't stop — кто-то ЁЛКА зажёг, 3.14 well_done!") == [
        "don't", "stop", "кто-то", "елка", "зажег", "3.14", "well", "done",
    ]
    assert tokenize("It’s") == ["it's"]
    assert tokenize("…—!") == []


def test_split_sentences_in_both_languages():
    text = "Hello there. How are you? «Привет», — сказал он. Fine!\n\nNew paragraph without end"
    assert split_sentences(text) == [
        "Hello there.", "How are you?", "«Привет», — сказал он.", "Fine!", "New paragraph without end",
    ]
    # Direct speech: the author's words after the dash start in lower case and stay in the sentence.
    assert split_sentences("Он ушёл. — Куда? — спросила она. — Домой!") == ["Он ушёл.", "— Куда? — спросила она.", "— Домой!"]
    assert split_sentences("Pi is 3.14 here.\n\n* * *\n\nBye.") == ["Pi is 3.14 here.", "Bye."]
    assert sentence_lengths("One two three. Four five.") == [3, 2]


def test_ngrams():
    assert ngrams(["a", "b", "c"], 2) == [("a", "b"), ("b", "c")]
    assert ngrams(["a"], 2) == []


def test_persona_alignment_is_the_cosine():
    assert persona_alignment(np.array([1.0, 0.0]), np.array([1.0, 1.0])) == pytest.approx(1 / math.sqrt(2))
    assert persona_alignment(np.array([1.0, 0.0]), np.array([-2.0, 0.0])) == pytest.approx(-1.0)
    assert persona_alignment(np.zeros(2), np.ones(2)) == 0.0


def test_ngram_style_match_by_hand():
    profile = StyleProfile.from_texts(["The cat sat on the mat."])
    # 2-grams: (the cat) (cat sat) in, (sat down) out -> 2/3; 3-grams: (the cat sat) in, (cat sat down)
    # out -> 1/2; 4-grams: (the cat sat down) out -> 0; no 5-gram. Mean: (2/3 + 1/2 + 0) / 3 = 7/18.
    assert ngram_style_match("the cat sat down", profile) == pytest.approx(7 / 18)
    assert ngram_style_match("The cat sat on the mat", profile) == pytest.approx(1.0)
    assert ngram_style_match("hello", profile) == 0.0
    # Every occurrence counts: (the cat) twice, both in the corpus; (cat the) not -> 2/3 for bigrams.
    assert ngram_style_match("the cat the cat", profile, orders=(2,)) == pytest.approx(2 / 3)


def test_type_token_ratio_plain_and_moving_average():
    tokens = ["a", "b", "a", "c"]
    assert type_token_ratio(tokens) == pytest.approx(3 / 4)  # shorter than the window: V / N
    assert type_token_ratio(tokens, window=2) == pytest.approx(1.0)  # ab, ba, ac: 2/2 each
    assert type_token_ratio(tokens, window=3) == pytest.approx((2 / 3 + 3 / 3) / 2)  # aba, bac
    assert type_token_ratio([]) == 0.0


def test_ttr_consistency_and_relative_consistency():
    assert ttr_consistency(0.5, 0.4) == pytest.approx(0.75)  # 1 - 0.1 / 0.4
    assert ttr_consistency(0.4, 0.4) == 1.0
    assert relative_consistency(0.9, 0.4) == 0.0  # clipped at 0
    assert relative_consistency(0.0, 0.0) == 1.0 and relative_consistency(0.1, 0.0) == 0.0


def test_mtld_by_hand():
    # a b a | b a b: the TTR drops to 2/3 <= 0.72 after each third token -> 2 full factors, no rest.
    assert mtld(list("ababab")) == pytest.approx(3.0)
    # Forward: a b a (2/3, a factor) then c (TTR 1, partial 0) -> 4 / 1 = 4. Backward: c a b a never
    # drops (3/4 = 0.75) -> partial (1 - 0.75) / (1 - 0.72) = 0.892857 -> 4 / 0.892857 = 4.48.
    assert mtld(list("abac")) == pytest.approx((4 + 4 / (0.25 / 0.28)) / 2)
    assert mtld(list("abcd")) == pytest.approx(4.0)  # never loses diversity: N
    assert mtld([]) == 0.0
    with pytest.raises(ValueError):
        mtld(list("ab"), threshold=1.0)


def test_sentence_length_histogram_bins():
    counts = sentence_length_histogram([1, 5, 6, 10, 11, 20, 21, 35, 36, 50, 51, 400, 0])
    assert counts.tolist() == [2, 2, 1, 1, 1, 1, 2, 2]


def test_sentence_length_kl_by_hand():
    text = np.array([1, 0, 1, 0, 0, 0, 0, 0])
    corpus = np.array([2, 0, 2, 0, 0, 0, 0, 0])
    # P = (c + 0.5) / 6 = [.25, 1/12, .25, 1/12 ...], Q = (d + 0.5) / 8 = [.3125, .0625, .3125, .0625 ...]
    # KL = 2 * .25 ln(.25 / .3125) + 6 * (1/12) ln((1/12) / .0625) = .5 ln .8 + .5 ln(4/3) = .5 ln(16/15)
    assert sentence_length_kl(text, corpus) == pytest.approx(0.5 * math.log(16 / 15))
    assert sentence_length_kl(corpus, corpus) == pytest.approx(0.0)
    assert sentence_length_kl(np.array([5, 0, 0, 0, 0, 0, 0, 0]), np.array([0, 0, 0, 0, 0, 0, 0, 5])) > 1.0
    with pytest.raises(ValueError):
        sentence_length_kl(text, corpus[:4])


def test_generic_phrase_penalty_by_hand():
    assert generic_phrase_penalty("A big deal. Not a big deal at all. Fine.", ["big deal"]) == pytest.approx(2 / 3)
    assert generic_phrase_penalty("Стоит отметить, что снег шёл. Мы шли домой.") == pytest.approx(1 / 2)
    assert generic_phrase_penalty("It's worth noting the tide. The boat left. We slept.") == pytest.approx(1 / 3)
    assert generic_phrase_penalty(GENERIC) == 1.0  # clichés in every sentence, capped at 1
    assert generic_phrase_penalty(AUTHOR_A_UNSEEN) == 0.0


def test_the_maintained_phrase_list_covers_both_languages():
    phrases = load_generic_phrases()
    joined = {" ".join(p) for p in phrases}
    assert "in today's fast-paced world" in joined and "в современном мире" in joined
    assert sum(any("а" <= ch <= "я" for ch in p) for p in joined) >= 30
    assert sum(p.isascii() for p in joined) >= 30
    assert all(len(p) >= 2 or "-" in p[0] for p in phrases)


def test_ngram_novelty_by_hand():
    # Text bigrams {ab, bc, cd, de}; reference {xb, bc, cd, dy}: new ab and de -> 2/4.
    assert ngram_novelty("a b c d e", "x b c d y", n=2) == pytest.approx(0.5)
    assert ngram_novelty("a b c d e", ["x b c", "c d y"], n=2) == pytest.approx(0.5)
    assert ngram_novelty("a b c", "a b c", n=2) == 0.0
    assert ngram_novelty("a", "a", n=2) == 1.0  # no n-gram, nothing copied


def test_lzma_compression_ratio():
    text = "The grey water. " * 40
    data = text.encode("utf-8")
    expected = len(lzma.compress(data, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}])) / len(data)
    assert lzma_compression_ratio(text) == pytest.approx(expected)
    assert lzma_compression_ratio(text) < 0.15  # repetition compresses
    assert lzma_compression_ratio(AUTHOR_A[0] + AUTHOR_A[1]) > 0.5
    assert lzma_compression_ratio("") == 0.0


def test_continuity_of_vectors_by_hand():
    assert continuity_of_vectors(np.array([[1, 0], [0, 1], [0, 2]])) == pytest.approx((0 + 1) / 2)
    assert continuity_of_vectors(np.array([[1.0, 0.0]])) == 1.0


def test_semantic_continuity_prefers_a_coherent_text(minilm):
    coherent = (
        "The boat left the harbour at dawn. The sea outside the breakwater was rough. "
        "By noon the waves were breaking over the deck."
    )
    jumbled = (
        "The boat left the harbour at dawn. Quarterly revenue grew by eight percent. "
        "My favourite cake recipe needs three eggs."
    )
    assert semantic_continuity(coherent, minilm) > semantic_continuity(jumbled, minilm) + 0.1
    assert semantic_continuity("One sentence only.", minilm) == 1.0


def test_weights_must_sum_to_one_and_be_non_negative():
    assert math.isclose(sum(vars(StyleWeights()).values()), 1.0)
    with pytest.raises(ValueError, match="sum to 1"):
        StyleWeights(alignment=0.5)
    with pytest.raises(ValueError, match="negative"):
        StyleWeights(alignment=-0.1, ngram_match=0.45)


def test_composite_is_the_weighted_sum():
    weights = StyleWeights(
        alignment=0.5, ngram_match=0.5, ttr=0, mtld=0, sentence_lengths=0, generic=0, novelty=0,
        compression=0, continuity=0,
    )
    components = dict.fromkeys(vars(weights), 0.0) | {"alignment": 0.8, "ngram_match": 0.2, "ttr": 1.0}
    assert composite_score(components, weights) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="outside"):
        composite_score(components | {"ttr": 1.5}, weights)
    with pytest.raises(ValueError, match="no component"):
        composite_score({"alignment": 1.0}, weights)


@pytest.fixture(scope="module")
def user_profile(minilm) -> StyleProfile:
    corpus = AUTHOR_A + AUTHOR_A_GARDEN
    persona = PersonaIndex.from_vectors(minilm.encode(corpus)).mean_persona()
    return StyleProfile.from_texts(corpus, persona)


def test_profile_statistics(user_profile):
    assert user_profile.paragraph_count == len(AUTHOR_A) + len(AUTHOR_A_GARDEN)
    assert user_profile.sentence_count == sum(len(split_sentences(t)) for t in AUTHOR_A + AUTHOR_A_GARDEN)
    assert user_profile.sentence_length_counts.sum() == user_profile.sentence_count
    assert 0.1 < user_profile.cyrillic_share < 0.4
    assert 0 < user_profile.ttr <= 1 and user_profile.mtld > 10


def test_score_style_components_match_the_single_metrics(user_profile, minilm):
    scores = score_style(AUTHOR_A_UNSEEN, user_profile, embedder=minilm, reference=AUTHOR_A[0])
    assert scores.ngram_match == pytest.approx(ngram_style_match(AUTHOR_A_UNSEEN, user_profile))
    assert scores.alignment == pytest.approx(persona_alignment(minilm.encode([AUTHOR_A_UNSEEN])[0], user_profile.persona_vector), abs=1e-6)
    assert scores.novelty == pytest.approx(ngram_novelty(AUTHOR_A_UNSEEN, AUTHOR_A[0], 4))
    assert scores.components["alignment"] == pytest.approx((scores.alignment + 1) / 2)
    assert scores.components["sentence_lengths"] == pytest.approx(math.exp(-scores.sentence_length_kl))
    assert scores.composite == pytest.approx(composite_score(scores.components))
    assert all(0.0 <= value <= 1.0 for value in scores.components.values())


def test_the_users_own_unseen_paragraph_scores_closer_on_style_than_generic_text(user_profile, minilm):
    own = score_style(AUTHOR_A_UNSEEN, user_profile, embedder=minilm)
    generic = score_style(GENERIC, user_profile, embedder=minilm)
    unrelated = score_style(UNRELATED, user_profile, embedder=minilm)
    assert own.composite > generic.composite + 0.1
    assert own.composite > unrelated.composite + 0.1
    assert own.ngram_match > generic.ngram_match and own.ngram_match > unrelated.ngram_match
    assert own.alignment > generic.alignment and own.alignment > unrelated.alignment
    assert own.generic_penalty < generic.generic_penalty
    assert own.sentence_length_kl < unrelated.sentence_length_kl


def test_copying_the_source_lowers_novelty_and_the_composite(user_profile, minilm):
    source = AUTHOR_A_UNSEEN
    copied = score_style(AUTHOR_A_UNSEEN, user_profile, embedder=minilm, reference=source)
    fresh = score_style(AUTHOR_A[2], user_profile, embedder=minilm, reference=source)
    assert copied.novelty == 0.0 and fresh.novelty > 0.9
    assert fresh.composite > copied.composite


def test_score_style_needs_an_embedder_unless_those_weights_are_zero(user_profile):
    with pytest.raises(ValueError, match="embedder"):
        score_style(AUTHOR_A_UNSEEN, user_profile)
    rigid = StyleWeights(
        alignment=0, continuity=0, ngram_match=0.3, ttr=0.1, mtld=0.1, sentence_lengths=0.2, generic=0.1,
        novelty=0.1, compression=0.1,
    )
    own = score_style(AUTHOR_A_UNSEEN, user_profile, weights=rigid)
    generic = score_style(GENERIC, user_profile, weights=rigid)
    assert own.composite > generic.composite

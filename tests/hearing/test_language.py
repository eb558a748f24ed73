"""Language decisions among the configured languages: history and the document as a prior, a hint as a pin."""

from __future__ import annotations

from pushkin.daemon.hearing.language import LanguagePrior, script_language


def test_a_hint_or_a_single_language_pins_the_choice():
    assert LanguagePrior(("en", "ru")).weigh({"en": 0.99}, hint="ru").language == "ru"
    guess = LanguagePrior(("ru",)).weigh({"en": 0.99})
    assert guess.language == "ru" and guess.pinned
    # A hint outside the configured set is not a pin.
    assert not LanguagePrior(("en", "ru")).weigh({"en": 0.9, "ru": 0.1}, hint="de").pinned


def test_detection_is_restricted_to_the_configured_languages():
    guess = LanguagePrior(("en", "ru")).weigh({"uk": 0.7, "ru": 0.2, "en": 0.1})
    assert guess.language == "ru" and abs(sum(guess.probabilities.values()) - 1) < 1e-9


def test_recent_utterances_and_the_document_tip_an_unsure_detection():
    prior = LanguagePrior(("en", "ru"))
    unsure = {"en": 0.55, "ru": 0.45}
    assert prior.weigh(unsure).language == "en"
    for _ in range(3):
        prior.remember("ru")
    assert prior.weigh(unsure).language == "ru"
    assert LanguagePrior(("en", "ru")).weigh(unsure, document="ru").language == "ru"
    # A clear detection still wins against the history: one English phrase in Russian work.
    assert prior.weigh({"en": 0.97, "ru": 0.03}, document="ru").language == "en"


def test_the_documents_script_names_its_language():
    assert script_language("Мы встретимся в пятницу, приходи пораньше.") == "ru"
    assert script_language("We met at the station and walked on.") == "en"
    assert script_language("Kubernetes и Docker работают хорошо") == ""
    assert script_language("ok") == ""

"""Personal vocabulary: terms extracted from the indexed writing, the user's list on disk, the merge the
decoder reads, and the persona store as a source."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pushkin.daemon.hearing.recognizer import prompt_text
from pushkin.daemon.hearing.settings import RecognizerSettings
from pushkin.daemon.hearing.vocabulary import (
    PersonalVocabulary,
    UserVocabulary,
    VocabularyError,
    extract_terms,
    merge_vocabulary,
    persona_vocabulary,
)
from pushkin.persona.store import PersonaStore

WRITING = [
    "Anya Karenina met Vronsky at the station. Vronsky bowed. The station was cold.",
    "Later Anya Karenina wrote to Dolly about Kubernetes and gRPC. She liked Kubernetes.",
    "We deployed gRPC services. Bread was fresh. I bought bread on Monday and Monday again.",
    "Вчера Вронский приехал в Москву. Вронский устал, а Москва шумела. Москва большая.",
]


def test_names_and_terms_seen_repeatedly_become_vocabulary():
    terms = extract_terms(WRITING)
    assert {"Anya Karenina", "Vronsky", "Kubernetes", "gRPC", "Вронский", "Москва"} <= set(terms)
    # "Vronsky" counted at a sentence start too, once it is known as a name: it ranks above one-offs
    assert terms.index("Vronsky") < terms.index("Москва")


def test_common_words_months_days_and_one_offs_stay_out():
    terms = extract_terms(WRITING)
    assert "Bread" not in terms  # also written "bread": a common word at a sentence start
    assert "The" not in terms and "She" not in terms and "Monday" not in terms
    assert "Dolly" not in terms  # seen once
    assert "Anya" not in terms and "Karenina" not in terms  # covered by the whole name


def test_the_list_is_bounded_most_frequent_first():
    texts = [f"We met Zorbanek{chr(97 + i)}. " * (i + 2) for i in range(20)]  # "…t" 21 times, "…a" twice
    terms = extract_terms(texts, limit=5)
    assert terms == ("Zorbanekt", "Zorbaneks", "Zorbanekr", "Zorbanekq", "Zorbanekp")
    assert extract_terms(["Vronsky came. Then Vronsky left."], min_count=3) == ()


def test_user_vocabulary_persists_and_refuses_bad_terms(tmp_path):
    path = tmp_path / "deep" / "vocabulary.txt"
    user = UserVocabulary(path)
    assert user.terms() == ()
    assert user.add("  Oblonsky. ") == ("Oblonsky", True)
    assert user.add("Oblonsky") == ("Oblonsky", False)
    assert user.add("«Анна Каренина»") == ("Анна Каренина", True)
    assert UserVocabulary(path).terms() == ("Oblonsky", "Анна Каренина")
    assert path.read_text(encoding="utf-8") == "Oblonsky\nАнна Каренина\n"
    for bad in ("", " ... ", "one two three four five six", "x" * 61):
        with pytest.raises(VocabularyError):
            user.add(bad)
    assert UserVocabulary(path).terms() == ("Oblonsky", "Анна Каренина")  # nothing lost by a refusal


def test_an_unreadable_vocabulary_file_is_no_vocabulary(tmp_path):
    path = tmp_path / "vocabulary.txt"
    path.write_bytes(b"\xff\xfe\xfa not utf-8")
    assert UserVocabulary(path).terms() == ()


def test_merge_puts_the_users_words_last_without_repeats():
    merged = merge_vocabulary(("Kubernetes",), ("Oblonsky", "Vronsky"), ("Vronsky", "Москва"))
    assert merged == ("Москва", "Kubernetes", "Oblonsky", "Vronsky")
    settings = RecognizerSettings(initial_prompt="Notes.", vocabulary=("Old",))
    assert prompt_text(settings, merged) == "Notes. Москва, Kubernetes, Oblonsky, Vronsky."
    assert prompt_text(settings) == "Notes. Old."


def _index(path, paragraphs):
    with PersonaStore(path) as store:
        store.ensure_model("test-embedder", 4)
        store.replace_document(path="novel.md", kind="md", mtime_ns=1, size=1, sha256="0" * 64,
                               paragraphs=paragraphs, vectors=np.ones((len(paragraphs), 4), np.float32))


def test_the_persona_store_is_a_source(tmp_path):
    store = tmp_path / "persona.sqlite3"
    assert persona_vocabulary(store) == ()  # nothing indexed: no vocabulary, no error, no file made
    assert not store.exists()
    _index(store, WRITING)
    vocabulary = PersonalVocabulary(("Settings Term",), UserVocabulary(tmp_path / "vocabulary.txt"), store)
    assert "Vronsky" in vocabulary.persona_terms
    vocabulary.add("Oblonsky")
    terms = vocabulary.terms()
    assert terms[-1] == "Oblonsky" and "Settings Term" in terms and "Anya Karenina" in terms
    (tmp_path / "broken.sqlite3").write_bytes(b"not a database at all" * 100)
    assert persona_vocabulary(tmp_path / "broken.sqlite3") == ()


def test_the_final_decode_reads_the_prompt_the_vocabulary_then_the_documents_last_whole_words():
    from pushkin.daemon.hearing.recognizer import FasterWhisperRecognizer

    settings = RecognizerSettings(model="base", initial_prompt="Notes.", document_context_chars=24)
    recognizer = FasterWhisperRecognizer(settings)
    recognizer.vocabulary = ("Oblonsky",)
    # The last 24 characters start inside "Kubernetes": that word's fragment is left out.
    def context(text: str, language: str = "en", reader: FasterWhisperRecognizer = recognizer) -> str | None:
        return reader._context(reader._document_tail(text), language)

    # The last 24 characters start inside "Kubernetes": that word's fragment is left out.
    assert context("We moved the cluster into Kubernetes last\nweek") == "Notes. Oblonsky. Kubernetes last week"
    assert context("We moved it to Kubernetes last\nweek") == "Notes. Oblonsky. to Kubernetes last week"
    assert context("We moved it into Kubernetes and on\nMonday") == "Notes. Oblonsky. Kubernetes and on Monday"
    assert context("Short one") == "Notes. Oblonsky. Short one"
    assert context("") is None  # nothing before the cursor: the prompt alone, as before
    off = FasterWhisperRecognizer(dataclasses.replace(settings, document_context_chars=0))
    assert context("Anything", reader=off) is None


def test_the_documents_words_are_read_only_by_a_decode_in_their_script():
    # Russian words before an English decode make Whisper go on in Russian (a pinned English came out "Да.").
    from pushkin.daemon.hearing.recognizer import FasterWhisperRecognizer

    recognizer = FasterWhisperRecognizer(RecognizerSettings(model="base", initial_prompt="", document_context_chars=60))
    russian, english = "Мы говорили о поездке в Москву.", "We talked about the trip to Moscow."
    assert recognizer._context(russian, "ru") == russian
    assert recognizer._context(russian, "en") is None
    assert recognizer._context(english, "en") == english
    assert recognizer._context(english, "ru") is None
    assert recognizer._context(english, "de") == english  # another Latin-script language reads it
    assert recognizer._context("Да.", "en") == "Да."  # too few letters to name a script: read as before

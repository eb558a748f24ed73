"""Whisper base hears the names of the user's indexed writing, and a word added by voice, their way."""

from __future__ import annotations

import numpy as np
from hearing.speech import speak_piper

from pushkin.daemon.hearing.recognizer import FasterWhisperRecognizer, prompt_text
from pushkin.daemon.hearing.settings import RecognizerSettings
from pushkin.daemon.hearing.vocabulary import PersonalVocabulary, UserVocabulary
from pushkin.persona.store import PersonaStore

WRITING = [
    "The train was late, and Oblonsky paced the platform with his collar up.",
    "Nobody had told Oblonsky that the bridge was closed for the winter.",
    "Dolly wrote that the children were ill again, and she wrote it twice.",
]


def _float(samples: np.ndarray) -> np.ndarray:
    silence = np.zeros(int(0.3 * 16000), np.int16)
    return np.concatenate([silence, samples, silence[:3200]]).astype(np.float32) / 32768


def _index(path, paragraphs):
    with PersonaStore(path) as store:
        store.ensure_model("test-embedder", 4)
        store.replace_document(path="novel.md", kind="md", mtime_ns=1, size=1, sha256="0" * 64,
                               paragraphs=paragraphs, vectors=np.ones((len(paragraphs), 4), np.float32))


def test_a_name_from_the_indexed_writing_comes_out_the_users_way(whisper_base, piper_voice, tmp_path):
    recognizer = FasterWhisperRecognizer(RecognizerSettings(model=str(whisper_base), cpu_threads=2,
                                                            languages=("en",), allow_download=False))
    audio = _float(speak_piper("Oblonsky was late again.", piper_voice))
    # Base alone usually writes "Uplonsky was laid again." (not asserted: in some processes CTranslate2's numerics
    # let it reach the name unaided); what is asserted is that the indexed writing's name reaches the prompt.
    assert "Oblonsky" not in prompt_text(recognizer.settings, recognizer.vocabulary)

    _index(tmp_path / "persona.sqlite3", WRITING)
    vocabulary = PersonalVocabulary((), UserVocabulary(tmp_path / "vocabulary.txt"), tmp_path / "persona.sqlite3")
    assert "Oblonsky" in vocabulary.persona_terms
    recognizer.vocabulary = vocabulary.terms()
    assert "Oblonsky" in prompt_text(recognizer.settings, recognizer.vocabulary)
    assert recognizer.transcribe(audio).text == "Oblonsky was late again."


def test_a_word_added_to_the_users_list_is_used_from_the_next_utterance(whisper_base, piper_voice, tmp_path):
    recognizer = FasterWhisperRecognizer(RecognizerSettings(model=str(whisper_base), cpu_threads=2,
                                                            languages=("en",), allow_download=False))
    vocabulary = PersonalVocabulary((), UserVocabulary(tmp_path / "vocabulary.txt"), None)
    recognizer.vocabulary = vocabulary.terms()
    audio = _float(speak_piper("Oblonsky was late again.", piper_voice))
    # Without the word the decoder's prompt lacks it (the test above shows base alone mishears the name; here
    # that transcript is left unasserted: after other tests in the process it can flip on CTranslate2's numerics).
    assert "Oblonsky" not in prompt_text(recognizer.settings, recognizer.vocabulary)
    vocabulary.add("Oblonsky.")
    recognizer.vocabulary = vocabulary.terms()
    assert "Oblonsky" in prompt_text(recognizer.settings, recognizer.vocabulary)
    assert recognizer.transcribe(audio).text == "Oblonsky was late again."
    # persisted: a new daemon reads it back
    assert UserVocabulary(tmp_path / "vocabulary.txt").terms() == ("Oblonsky",)

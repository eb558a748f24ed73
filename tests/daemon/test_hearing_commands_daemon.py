"""The vocabulary command through the daemon: the listener hands the words to the speech front end, which
writes the user's file and gives the recognizer the new list for the next utterance."""

from __future__ import annotations

import asyncio
import dataclasses

from pushkin.clients.daemon_client import DaemonClient
from pushkin.daemon.hearing import HearingSettings, MicrophoneSettings, SpeechFrontEnd
from pushkin.daemon.hearing.vocabulary import PersonalVocabulary, UserVocabulary
from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.server import Daemon

from .conftest import connect_editor, unix_settings


async def test_add_that_to_the_vocabulary_persists_and_reaches_the_recognizer(short_dir, tiny_recognizer_settings):
    hearing = HearingSettings(recognizer=dataclasses.replace(tiny_recognizer_settings, vocabulary=("Kubernetes",)),
                              preload=False,
                              microphone=MicrophoneSettings(enabled=False))
    front = SpeechFrontEnd(hearing)
    path = short_dir / "vocabulary.txt"
    front.use_vocabulary(PersonalVocabulary(hearing.recognizer.vocabulary, UserVocabulary(path)))
    daemon = Daemon(dataclasses.replace(unix_settings(short_dir), hearing=hearing), planner=IntentEngine(),
                    hearing=front)
    await daemon.start()
    editor, buffer, _ = await connect_editor(daemon.address)
    try:
        async with DaemonClient(daemon.address) as client:
            await client.say("Oblonsky.")
            result = await client.say("add that to the vocabulary")
            assert result.intent.name == "add_vocabulary"
            assert result.message == "Added “Oblonsky” to the vocabulary."
            assert path.read_text(encoding="utf-8") == "Oblonsky\n"
            assert front.recognizer.vocabulary == ("Kubernetes", "Oblonsky")
            assert buffer.text == "Oblonsky."  # the command typed nothing
            again = await client.say("add that to the vocabulary")
            assert again.message == "“Oblonsky” is already in the vocabulary."
            path.unlink()
            path.mkdir()  # the file cannot be written: said, and the daemon goes on
            await client.say("Vronsky.")
            failed = await client.say("добавь это в словарь")
            assert failed.message.startswith("Словарь не сохранён")
            assert (await client.say("more words.")).applied
    finally:
        await editor.close()
        await daemon.stop(0.2)
        front.close()


async def _until(condition, timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_language_pin_belongs_to_its_document(short_dir, tiny_recognizer_settings):
    hearing = HearingSettings(recognizer=dataclasses.replace(tiny_recognizer_settings, languages=("en", "ru")),
                              preload=False, microphone=MicrophoneSettings(enabled=False))
    front = SpeechFrontEnd(hearing)
    daemon = Daemon(dataclasses.replace(unix_settings(short_dir), hearing=hearing), planner=IntentEngine(),
                    hearing=front)
    await daemon.start()
    first, first_buffer, _ = await connect_editor(daemon.address, name="first", document_id="notes.md", text="Hi.")
    try:
        async with DaemonClient(daemon.address) as client:
            pinned = await client.say("диктуй по-русски")
            assert pinned.intent.name == "pin_language" and pinned.message == "В этом документе диктую по-русски."
            assert front.spoken_language("") == "ru"  # what the next utterance of notes.md is decoded in
            assert front.spoken_language("en") == "en"  # a stream that names its language keeps it
            assert first_buffer.text == "Hi."
            second, _, _ = await connect_editor(daemon.address, name="second", document_id="other.md", text="")
            try:
                await _until(lambda: front.spoken_language("") == "")  # other.md has the focus: detected
                await first.focus("notes.md")
                await _until(lambda: front.spoken_language("") == "ru")
            finally:
                await second.close()
            refused = daemon.listener.pin_language("notes.md", "de", "en")
            assert refused.startswith("“de” is not among [hearing.recognizer] languages")
            assert daemon.listener.language_pins == {"notes.md": "ru"}
            await client.say("Dictate in any language.", document_id="notes.md")
            assert daemon.listener.language_pins == {}
    finally:
        await first.close()
        await daemon.stop(0.2)
        front.close()

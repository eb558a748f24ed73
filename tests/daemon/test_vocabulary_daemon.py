"""The vocabulary command through the daemon: the listener hands the words to the speech front end, which
writes the user's file and gives the recognizer the new list for the next utterance."""

from __future__ import annotations

import dataclasses

from pushkin.clients.daemon_client import DaemonClient
from pushkin.daemon.hearing import HearingSettings, SpeechFrontEnd
from pushkin.daemon.hearing.vocabulary import PersonalVocabulary, UserVocabulary
from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.server import Daemon

from .conftest import connect_editor, unix_settings


async def test_add_that_to_the_vocabulary_persists_and_reaches_the_recognizer(short_dir, tiny_recognizer_settings):
    hearing = HearingSettings(recognizer=dataclasses.replace(tiny_recognizer_settings, vocabulary=("Kubernetes",)),
                              preload=False)
    front = SpeechFrontEnd(hearing)
    path = short_dir / "vocabulary.txt"
    front.use_vocabulary(PersonalVocabulary(hearing.recognizer.vocabulary, UserVocabulary(path)))
    daemon = Daemon(dataclasses.replace(unix_settings(short_dir), hearing=hearing), planner=IntentEngine(),
                    hearing=front, microphone_source=lambda: None)
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

"""The faster-whisper path end to end on a tiny random-weight Whisper, and the guards around it."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import wave

import numpy as np
import pytest

from pushkin.daemon.hearing.front_end import SpeechFrontEnd
from pushkin.daemon.hearing.recognizer import (
    FasterWhisperRecognizer,
    LocalAgreement,
    ModelMissing,
    RecognizedSegment,
    choose_device,
    suppression_reason,
)
from pushkin.daemon.hearing.settings import HearingSettings, RecognizerSettings
from pushkin.daemon.hearing_api import HeardTranscript, Hearing, SpeechEnded, SpeechStarted
from pushkin.daemon.planning import Utterance
from pushkin.proto.types import StatusNotice, Transcript

from .speech import compose


def segment(text, no_speech=0.05, logprob=-0.2):
    return RecognizedSegment(text, 0.0, 1.0, no_speech, logprob, 1.2)


def test_known_silence_hallucinations_are_suppressed_unless_confident():
    settings = RecognizerSettings()
    assert suppression_reason([segment(" Thank you.", 0.3, -0.8)], settings) == "known-hallucination"
    assert suppression_reason([segment(" Продолжение следует...", 0.2, -0.6)], settings) == "known-hallucination"
    assert suppression_reason([segment("Субтитры сделал DimaTorzok", 0.2, -0.6)], settings) == "known-hallucination"
    assert suppression_reason([segment(" Thank you.", 0.02, -0.1)], settings) == ""
    assert suppression_reason([segment(" Thank you for the draft.", 0.3, -0.8)], settings) == ""


def test_no_speech_probability_and_empty_text_are_used():
    settings = RecognizerSettings(no_speech_threshold=0.6, log_prob_threshold=-1.0)
    assert suppression_reason([segment(" Hello there.", 0.9, -1.5)], settings) == "no-speech"
    assert suppression_reason([segment(" Hello there.", 0.9, -0.3)], settings) == ""
    assert suppression_reason([segment(" ... ")], settings) == "empty"
    assert suppression_reason([], settings) == "empty"


def test_local_agreement_commits_what_two_hypotheses_share():
    agreement = LocalAgreement()
    assert agreement.update("delete the") == ("", "delete the")
    assert agreement.update("delete the last") == ("delete the", "delete the last")
    assert agreement.update("delete the last sentence") == ("delete the last", "delete the last sentence")
    # A hypothesis that rewrites committed words cannot take them back.
    stable, text = agreement.update("the lead last sentence")
    assert stable == "delete the last" and text.startswith("delete the last")


def test_device_is_chosen_automatically():
    device, compute = choose_device(RecognizerSettings())
    assert (device, compute) in {("cpu", "int8"), ("cuda", "float16")}
    assert choose_device(RecognizerSettings(device="cpu", compute_type="float32")) == ("cpu", "float32")


def test_a_missing_model_names_it_and_how_to_fetch_it(tmp_path):
    with pytest.raises(ModelMissing, match="huggingface-cli download Systran/faster-whisper-small"):
        FasterWhisperRecognizer(RecognizerSettings(model="small", allow_download=False)).load()
    with pytest.raises(ModelMissing, match="model.bin"):
        FasterWhisperRecognizer(RecognizerSettings(model=str(tmp_path / "nowhere"))).load()


def test_tiny_model_transcribes_with_a_language_from_the_set(tiny_recognizer_settings, clips):
    progress = []
    recognizer = FasterWhisperRecognizer(tiny_recognizer_settings, on_progress=progress.append)
    audio = clips["fox"].astype(np.float32) / 32768
    recognition = recognizer.transcribe(audio)
    assert recognition.language in ("en", "ru")
    assert recognition.segments and recognition.text
    assert recognition.text == " ".join("".join(s.text for s in recognition.segments).split())
    assert progress[0].startswith("Loading Whisper model") and progress[-1].startswith("Loaded")
    # A hint outside the set is ignored; inside it, it wins.
    assert recognizer.transcribe(audio, language="ru").language == "ru"
    assert recognizer.transcribe(audio, language="de").language in ("en", "ru")
    only_ru = FasterWhisperRecognizer(RecognizerSettings(**{**tiny_recognizer_settings.__dict__, "languages": ("ru",)}))
    assert only_ru.transcribe(audio).language == "ru"


async def paced(audio: np.ndarray, chunk_ms: int = 100, pause_s: float = 0.004):
    """The audio in chunks, yielding to the loop between them as a live source would."""
    step = 16 * chunk_ms
    for start in range(0, len(audio), step):
        yield audio[start : start + step].tobytes()
        await asyncio.sleep(pause_s)


@pytest.mark.slow
async def test_front_end_streams_boundaries_partials_and_finals(tiny_recognizer_settings, clips):
    front = SpeechFrontEnd(HearingSettings(recognizer=tiny_recognizer_settings))
    hearing: Hearing = front  # the daemon's seam
    assert callable(hearing.stream)
    scene = compose([0.5, clips["fox"], 0.9, clips["ru_delete"], 0.9, clips["scratch"], 0.8])
    got_interim = asyncio.Event()

    async def live():
        # Like a speaker who is still talking: halfway through the first sentence, time passes (up to
        # 20 s) until an interim transcript has come out, whatever the load on the machine.
        middle = int((scene.spans[0][0] + scene.spans[0][1]) / 2 * 16000)
        async for chunk in paced(scene.audio[:middle], pause_s=0.01):
            yield chunk
        for _ in range(200):
            if got_interim.is_set():
                break
            yield np.zeros(0, dtype=np.int16).tobytes()
            await asyncio.sleep(0.1)
        async for chunk in paced(scene.audio[middle:], pause_s=0.0):
            yield chunk

    events = []
    async for event in front.stream(live()):
        events.append(event)
        if isinstance(event, HeardTranscript) and not event.transcript.final:
            got_interim.set()
    started = [e for e in events if isinstance(e, SpeechStarted)]
    ended = [e for e in events if isinstance(e, SpeechEnded)]
    finals = [e for e in events if isinstance(e, HeardTranscript) and e.transcript.final]
    interims = [e for e in events if isinstance(e, HeardTranscript) and not e.transcript.final]
    assert len(started) == len(ended) == len(finals) == 3
    assert interims, "interim transcripts while the first long sentence is spoken"
    first_id = started[0].utterance_id
    assert all(e.transcript.utterance_id in {s.utterance_id for s in started} for e in interims)
    # Order per utterance: started, interims, ended, final.
    positions = [i for i, e in enumerate(events) if getattr(e, "utterance_id", None) == first_id or (isinstance(e, HeardTranscript) and e.transcript.utterance_id == first_id)]
    kinds = [type(events[i]).__name__ for i in positions]
    assert kinds[0] == "SpeechStarted" and kinds[-1] == "HeardTranscript" and "SpeechEnded" in kinds
    for final, (start, end) in zip(finals, scene.spans):
        utterance = final.utterance
        assert utterance is not None and utterance.text == final.transcript.text and utterance.source == "speech"
        assert utterance.language in ("en", "ru")
        assert abs(final.transcript.start_s - start) < 0.06 and abs(final.transcript.end_s - end) < 0.06
    assert finals[1].utterance.pause_before_s == pytest.approx(0.9, abs=0.1)
    assert finals[0].utterance.pause_after_s == pytest.approx(0.4, abs=0.06)
    front.close()


async def test_front_end_cancellation_leaves_the_model_thread_usable(tiny_recognizer_settings, clips):
    front = SpeechFrontEnd(HearingSettings(recognizer=tiny_recognizer_settings))
    scene = compose([0.3, clips["fox"], 0.6, clips["scratch"], 0.6])
    stream = front.stream(paced(scene.audio))
    first = await stream.__anext__()
    assert isinstance(first, SpeechStarted)
    await stream.aclose()  # the consumer went away mid-utterance
    assert not front._segmenters
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    await asyncio.sleep(0.05)
    assert all(t.done() for t in others if "transcribe" in repr(t.get_coro()))
    events = [e async for e in front.stream(paced(compose([0.3, clips["scratch"], 0.6]).audio, pause_s=0))]
    assert sum(isinstance(e, HeardTranscript) and e.transcript.final for e in events) == 1
    assert [t.name for t in threading.enumerate() if t.name.startswith("hearing-model")]
    front.close()


async def test_front_end_with_a_missing_model_still_reports_speech_and_says_why(tmp_path, clips):
    settings = HearingSettings(recognizer=RecognizerSettings(model=str(tmp_path / "no-model"), partials=False))
    front = SpeechFrontEnd(settings)
    scene = compose([0.3, clips["scratch"], 0.6, clips["formal"], 0.6])
    events = [e async for e in front.stream(paced(scene.audio, pause_s=0))]
    assert sum(isinstance(e, SpeechStarted) for e in events) == 2
    notices = [e for e in events if isinstance(e, StatusNotice)]
    assert len(notices) == 1 and notices[0].code == "recognizer-missing" and "model.bin" in notices[0].message
    front.close()


async def test_silence_yields_no_events(tiny_recognizer_settings):
    front = SpeechFrontEnd(HearingSettings(recognizer=tiny_recognizer_settings))
    events = [e async for e in front.stream(paced(np.zeros(16000 * 2, dtype=np.int16), pause_s=0))]
    assert events == []
    front.close()


def test_decoder_loops_are_written_once_and_real_repetition_stays():
    from pushkin.daemon.hearing.recognizer import collapse_repetitions

    assert collapse_repetitions("Yes, yes, yes, yes, yes, yes, yes, yes.") == ("Yes.", True)
    assert collapse_repetitions("and knew that. And knew that. And knew that. And") == ("and knew that.", True)
    assert collapse_repetitions("Cut that. Cut that. Cut that. Cut that") == ("Cut that.", True)
    assert collapse_repetitions("No, no, no. I said Friday.") == ("No, no, no. I said Friday.", False)
    assert collapse_repetitions("Cut the bread into slices. Cut the bread into slices.") == ("Cut the bread into slices.", True)
    assert collapse_repetitions("Very, very good.") == ("Very, very good.", False)
    assert collapse_repetitions("We had had enough of it.") == ("We had had enough of it.", False)
    assert collapse_repetitions("") == ("", False)


class FirstOnly:
    """A final decoder that decides the first utterance itself ("first") and leaves the rest to the cascade."""

    def __init__(self):
        self.asked = []

    async def decode(self, utterance_id, utterance, cascade):
        self.asked.append(utterance_id)
        if len(self.asked) > 1:
            return await cascade()
        transcript = Transcript(utterance_id, "first", True, "first", "en", utterance.speech_start_s, utterance.speech_end_s)
        return [HeardTranscript(transcript, Utterance("first", utterance.pause_before_s, utterance.pause_after_s))]


async def test_the_final_decoder_decides_each_utterance_and_the_cascade_hears_what_it_leaves(tiny_recognizer_settings,
                                                                                           clips):
    decoder = FirstOnly()
    front = SpeechFrontEnd(HearingSettings(recognizer=tiny_recognizer_settings), final_decoder=decoder)
    scene = compose([0.3, clips["scratch"], 0.6, clips["formal"], 0.6])
    events = [e async for e in front.stream(paced(scene.audio, pause_s=0))]
    front.close()
    finals = [e for e in events if isinstance(e, HeardTranscript) and e.transcript.final]
    started = [e.utterance_id for e in events if isinstance(e, SpeechStarted)]
    assert decoder.asked == started == [f.transcript.utterance_id for f in finals]
    assert finals[0].transcript.text == "first"
    assert finals[1].transcript.text and finals[1].utterance.source == "speech"  # the recognizer's reading


async def test_utterance_ids_are_never_shared_between_streams(tiny_recognizer_settings, clips):
    front = SpeechFrontEnd(HearingSettings(recognizer=dataclasses.replace(tiny_recognizer_settings, partials=False)))
    audio = compose([0.3, clips["scratch"], 0.6]).audio

    async def ids():
        return [e.utterance_id async for e in front.stream(paced(audio, pause_s=0)) if isinstance(e, SpeechStarted)]

    first, second = await asyncio.gather(ids(), ids())
    front.close()
    assert len(first) == len(second) == 1 and first != second  # two streams at once, one sequence of ids


async def test_debug_recording_writes_each_utterance_under_its_id(tiny_recognizer_settings, clips, tmp_path):
    settings = HearingSettings(recognizer=dataclasses.replace(tiny_recognizer_settings, partials=False),
                               debug_recording_dir=str(tmp_path / "audio"))
    front = SpeechFrontEnd(settings)
    scene = compose([0.3, clips["scratch"], 0.6, clips["formal"], 0.6])
    ids = [e.utterance_id async for e in front.stream(paced(scene.audio, pause_s=0)) if isinstance(e, SpeechStarted)]
    front.close()
    written = sorted((tmp_path / "audio").iterdir())
    assert len(ids) == 2 and sorted(path.stem.rsplit("-", 1)[1] for path in written) == sorted(ids)
    with wave.open(str(written[0])) as recording:
        assert recording.getframerate() == 16000 and recording.getnframes() > 16000 // 2

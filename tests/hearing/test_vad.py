"""The VAD segmenter on real espeak-ng speech with known silences."""

from __future__ import annotations

import numpy as np
import pytest

from pushkin.daemon.hearing.settings import HearingSettings, VadSettings, hearing_settings_from_mapping
from pushkin.daemon.hearing.vad import (
    Silence,
    SileroStream,
    SpeechAudio,
    UtteranceClosed,
    UtteranceDiscarded,
    UtteranceOpened,
    VadSegmenter,
)
from pushkin.proto.types import ListenMode

from .speech import RATE, compose

TOLERANCE_S = 0.060


def run(segmenter: VadSegmenter, audio: np.ndarray, chunk: int = 1600):
    events = []
    data = audio.tobytes()
    for start in range(0, len(data), chunk * 2):
        events += segmenter.feed(data[start : start + chunk * 2])
    return events + segmenter.finish()


def closed(events):
    return [e.utterance for e in events if isinstance(e, UtteranceClosed)]


@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_three_utterances_with_onsets_and_offsets_within_60_ms(clips, frame_ms):
    scene = compose([0.6, clips["fox"], 0.9, clips["ru_delete"], 1.1, clips["scratch"], 0.8])
    utterances = closed(run(VadSegmenter(VadSettings(frame_ms=frame_ms)), scene.audio))
    assert len(utterances) == 3
    for utterance, (start, end) in zip(utterances, scene.spans):
        assert abs(utterance.speech_start_s - start) <= TOLERANCE_S, (utterance.speech_start_s, start)
        assert abs(utterance.speech_end_s - end) <= TOLERANCE_S, (utterance.speech_end_s, end)


def test_pauses_around_utterances(clips):
    scene = compose([0.6, clips["scratch"], 0.9, clips["formal"], 0.25])
    first, second = closed(run(VadSegmenter(VadSettings(hangover_ms=400)), scene.audio))
    assert first.pause_before_s == pytest.approx(0.6, abs=TOLERANCE_S)
    assert second.pause_before_s == pytest.approx(0.9, abs=2 * TOLERANCE_S)
    # At closing time the pause after is what closed it: the hangover.
    assert first.pause_after_s == pytest.approx(0.4, abs=TOLERANCE_S)
    # The stream's end (before a hangover's worth of silence) closes the last one with what silence it had.
    assert second.pause_after_s == pytest.approx(0.25, abs=TOLERANCE_S)


def test_no_utterance_in_pure_silence():
    silence = np.zeros(RATE * 4, dtype=np.int16)
    assert run(VadSegmenter(), silence) == []


@pytest.mark.parametrize("aggressiveness", [0, 2])
def test_no_utterance_in_steady_noise(aggressiveness):
    scene = compose([4.0], noise_dbfs=-30)
    assert closed(run(VadSegmenter(VadSettings(aggressiveness=aggressiveness)), scene.audio)) == []


def test_webrtc_alone_is_fooled_by_noise_which_is_why_silero_confirms():
    scene = compose([4.0], noise_dbfs=-30)
    assert closed(run(VadSegmenter(VadSettings(aggressiveness=0, silero=False)), scene.audio))


def test_inner_silences_become_markers_with_their_durations(clips):
    scene = compose([0.5, clips["scratch"], 0.3, clips["formal"], 0.2, clips["scratch"], 1.0])
    settings = VadSettings(hangover_ms=500, min_silence_marker_ms=150)
    (utterance,) = closed(run(VadSegmenter(settings), scene.audio))
    silences = [part for part in utterance.parts if isinstance(part, Silence)]
    assert [round(s.duration_s, 1) for s in silences] == [0.3, 0.2]
    for silence, truth in zip(silences, (0.3, 0.2)):
        assert silence.duration_s == pytest.approx(truth, abs=TOLERANCE_S)
    kinds = [type(part) for part in utterance.parts]
    assert kinds == [SpeechAudio, Silence, SpeechAudio, Silence, SpeechAudio]
    # The markers carry no audio; the speech parts and markers together span the utterance.
    total = sum(part.duration_s for part in utterance.parts)
    assert total == pytest.approx(utterance.speech_end_s - utterance.audio_start_s, abs=0.01)


def test_pre_roll_keeps_the_first_100_ms_of_speech(clips):
    scene = compose([0.7, clips["fox"], 1.0])
    (utterance,) = closed(run(VadSegmenter(VadSettings(pre_roll_ms=300)), scene.audio))
    onset = int(scene.spans[0][0] * RATE)
    assert utterance.audio_start_s <= scene.spans[0][0] - 0.1
    offset = onset - int(round(utterance.audio_start_s * RATE))
    np.testing.assert_array_equal(utterance.audio[offset : offset + RATE // 10], scene.audio[onset : onset + RATE // 10])


def test_without_pre_roll_the_audio_starts_at_the_detected_onset(clips):
    scene = compose([0.7, clips["fox"], 1.0])
    (utterance,) = closed(run(VadSegmenter(VadSettings(pre_roll_ms=0)), scene.audio))
    assert utterance.audio_start_s == utterance.speech_start_s


def test_maximum_utterance_length_cuts(clips):
    long_speech = compose([0.3, clips["fox"], 0.05, clips["fox"], 0.05, clips["fox"], 0.5])
    utterances = closed(run(VadSegmenter(VadSettings(max_utterance_s=2.0)), long_speech.audio))
    assert len(utterances) >= 2
    assert utterances[0].cut_at_max_length
    assert utterances[0].audio.size <= 2.0 * RATE


def test_opened_precedes_closed_and_ids_match(clips):
    scene = compose([0.5, clips["scratch"], 1.0])
    events = run(VadSegmenter(), scene.audio)
    assert isinstance(events[0], UtteranceOpened) and isinstance(events[1], UtteranceClosed)
    assert events[0].index == events[1].utterance.index


def test_push_to_talk_spans_the_key_press_and_ignores_hangover(clips):
    scene = compose([0.3, clips["scratch"], 0.8, clips["formal"], 0.3])
    segmenter = VadSegmenter(VadSettings(), ListenMode.PUSH_TO_TALK)
    data = scene.audio.tobytes()
    half = len(data) // 2 // 960 * 960
    events = segmenter.feed(data[:9600])  # 0.3 s before pressing
    assert events == []
    segmenter.key_down()
    events += segmenter.feed(data[9600:])
    assert not closed(events), "the 0.8 s pause must not close a push-to-talk utterance"
    segmenter.key_up()
    events += segmenter.feed(b"\x00" * 960)
    (utterance,) = closed(events)
    assert utterance.speech_start_s == pytest.approx(0.3, abs=0.031)
    assert any(isinstance(p, Silence) and p.duration_s > 0.7 for p in utterance.parts)
    assert half > 0


def test_push_to_talk_without_speech_is_discarded():
    segmenter = VadSegmenter(VadSettings(), ListenMode.PUSH_TO_TALK)
    segmenter.key_down()
    events = segmenter.feed(b"\x00" * RATE * 2)
    segmenter.key_up()
    events += segmenter.feed(b"\x00" * 960)
    assert [type(e) for e in events] == [UtteranceOpened, UtteranceDiscarded]


def test_toggle_opens_and_closes_on_presses(clips):
    scene = compose([0.2, clips["scratch"], 1.0])
    segmenter = VadSegmenter(VadSettings(), ListenMode.TOGGLE)
    segmenter.key_down()
    events = segmenter.feed(scene.audio.tobytes())
    assert not closed(events)
    segmenter.key_down()
    events += segmenter.feed(b"\x00" * 960)
    assert len(closed(events)) == 1


def test_settings_from_config_and_bad_values():
    settings = hearing_settings_from_mapping({"listen_mode": "toggle", "vad": {"hangover_ms": 450}, "recognizer": {"languages": ["ru"]}})
    assert settings.listen_mode == ListenMode.TOGGLE
    assert settings.vad.hangover_ms == 450 and settings.recognizer.languages == ("ru",)
    assert hearing_settings_from_mapping(None) == HearingSettings()
    with pytest.raises(ValueError, match="frame_ms"):
        hearing_settings_from_mapping({"vad": {"frame_ms": 25}})
    with pytest.raises(ValueError, match="unknown key .hangovr_ms."):
        hearing_settings_from_mapping({"vad": {"hangovr_ms": 400}})
    with pytest.raises(ValueError, match="listen_mode"):
        hearing_settings_from_mapping({"listen_mode": "always"})
    with pytest.raises(ValueError, match="languages"):
        hearing_settings_from_mapping({"recognizer": {"languages": []}})


class CountingSilero(SileroStream):
    """The real streamed Silero, counting the windows it runs."""

    windows = 0

    def push(self, samples):
        probabilities = super().push(samples)
        self.windows += len(probabilities)
        return probabilities


@pytest.mark.parametrize("noise_dbfs", [None, -60])
def test_silero_rests_through_silence_without_moving_any_boundary(clips, noise_dbfs):
    scene = compose([3.0, clips["fox"], 2.5, clips["ru_delete"], 0.5, clips["scratch"], 3.0], noise_dbfs=noise_dbfs)
    results = {}
    for idle_ms in (0, 600):
        silero = CountingSilero()
        utterances = closed(run(VadSegmenter(VadSettings(silero_idle_ms=idle_ms), silero=silero), scene.audio))
        results[idle_ms] = (silero.windows, [(u.speech_start_s, u.speech_end_s, len(u.parts)) for u in utterances])
    always, resting = results[0], results[600]
    total_windows = len(scene.audio) // 512
    assert always[0] == total_windows
    assert resting[0] < 0.75 * always[0], (resting[0], always[0])  # over 8 s of this scene is silence
    assert len(resting[1]) == len(always[1]) == 3
    for (start_a, end_a, parts_a), (start_r, end_r, parts_r) in zip(always[1], resting[1]):
        assert abs(start_a - start_r) <= 0.03 and abs(end_a - end_r) <= 0.03 and parts_a == parts_r


def test_resting_silero_wakes_for_push_to_talk(clips):
    scene = compose([2.0, clips["scratch"], 1.0])
    segmenter = VadSegmenter(VadSettings(silero_idle_ms=300), ListenMode.PUSH_TO_TALK, silero=CountingSilero())
    data = scene.audio.tobytes()
    half = int(1.9 * RATE) * 2
    events = segmenter.feed(data[:half])
    segmenter.key_down()
    events += segmenter.feed(data[half:])
    segmenter.key_up()
    events += segmenter.finish()
    (utterance,) = closed(events)
    assert utterance.voiced_s > 0.3
    with pytest.raises(ValueError, match="silero_idle_ms"):
        hearing_settings_from_mapping({"vad": {"silero_idle_ms": -1}})


def test_a_pause_is_measured_and_the_utterance_can_close_before_its_hangover(clips):
    segmenter = VadSegmenter(VadSettings(hangover_ms=1500))
    scene = compose([0.5, clips["scratch"], 2.0])
    data = scene.audio.tobytes()
    end_s = scene.spans[0][1]
    events, silences = [], []
    for start in range(0, len(data), 960):  # 30 ms at a time
        events += segmenter.feed(data[start:start + 960])
        silences.append((segmenter.time_s, segmenter.trailing_silence_s))
        if segmenter.trailing_silence_s >= 0.3:
            events += segmenter.close_now()
            break
    # While the voice goes on only the short gaps between words count; the pause grows after its end.
    assert max(s for t, s in silences if t < end_s - 0.1) < 0.3
    assert silences[-1][1] >= 0.3 and abs(silences[-1][0] - silences[-1][1] - end_s) <= TOLERANCE_S
    (utterance,) = closed(events)
    assert abs(utterance.speech_end_s - end_s) <= TOLERANCE_S
    assert segmenter.time_s - end_s < 0.5  # closed long before the 1.5 s hangover
    assert not segmenter.is_open and segmenter.close_now() == []  # nothing open: nothing to close


def test_the_new_hearing_settings_load_and_bad_values_are_named():
    settings = hearing_settings_from_mapping({"vad": {"early_decode_ms": 0},
                                              "recognizer": {"min_window_s": 30, "vocabulary": ["Vronsky"],
                                                             "command_rescoring": False}})
    assert settings.vad.early_decode_ms == 0 and settings.recognizer.min_window_s == 30
    assert settings.recognizer.vocabulary == ("Vronsky",) and not settings.recognizer.command_rescoring
    with pytest.raises(ValueError, match="min_window_s"):
        hearing_settings_from_mapping({"recognizer": {"min_window_s": 0.2}})
    with pytest.raises(ValueError, match="early_decode_ms"):
        hearing_settings_from_mapping({"vad": {"early_decode_ms": -5}})
    with pytest.raises(ValueError, match="language_confidence"):
        hearing_settings_from_mapping({"recognizer": {"language_confidence": 1.5}})
    with pytest.raises(ValueError, match="command_margin"):
        hearing_settings_from_mapping({"recognizer": {"command_margin": -1}})

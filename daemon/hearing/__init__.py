"""Hearing: audio sources, the VAD segmenter, the recognizer and the daemon's speech front end."""

from .front_end import CascadeDecoder, FinalDecoder, SpeechFrontEnd
from .microphone import MicrophoneService, MicrophoneState
from .recognizer import FasterWhisperRecognizer, LocalAgreement, ModelMissing, Recognition, Recognizer
from .settings import (
    HearingSettings,
    MicrophoneSettings,
    RecognizerSettings,
    VadSettings,
    hearing_settings_from_mapping,
)
from .sources import (
    AudioFileError,
    AudioSource,
    AudioSourceError,
    BadAudioFormat,
    FileSource,
    MicrophoneSource,
    NoAudioDevice,
    PcmChunkSource,
    StdinSource,
    list_input_devices,
    read_audio_file,
)
from .vad import SegmentedUtterance, Silence, SpeechAudio, VadSegmenter

__all__ = [
    "AudioFileError",
    "AudioSource",
    "AudioSourceError",
    "BadAudioFormat",
    "CascadeDecoder",
    "FasterWhisperRecognizer",
    "FileSource",
    "FinalDecoder",
    "HearingSettings",
    "LocalAgreement",
    "MicrophoneService",
    "MicrophoneSettings",
    "MicrophoneSource",
    "MicrophoneState",
    "ModelMissing",
    "NoAudioDevice",
    "PcmChunkSource",
    "Recognition",
    "Recognizer",
    "RecognizerSettings",
    "SegmentedUtterance",
    "Silence",
    "SpeechAudio",
    "SpeechFrontEnd",
    "StdinSource",
    "VadSegmenter",
    "VadSettings",
    "hearing_settings_from_mapping",
    "list_input_devices",
    "read_audio_file",
]

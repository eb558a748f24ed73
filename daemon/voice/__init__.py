"""A voice that answers (``[voice]``, off by default): Piper or espeak-ng, to a device or WAV files.

See docs/voice.md. Heavy parts (piper, onnxruntime, sounddevice) load on the first reply.
"""

from .engines import EspeakEngine, PiperEngine, SpokenAudio, VoiceMissing, build_engine, piper_voice_path
from .gate import VoiceGatedHearing
from .settings import VoiceSettings
from .sinks import DeviceSink, FileSink, NoOutputDevice, build_sink
from .speaker import READ_COMMAND, Reply, SpokenReply, Voice, VoiceState

__all__ = [
    "DeviceSink", "EspeakEngine", "FileSink", "NoOutputDevice", "PiperEngine", "READ_COMMAND", "Reply",
    "SpokenAudio", "SpokenReply", "Voice", "VoiceGatedHearing", "VoiceMissing", "VoiceSettings", "VoiceState",
    "build_engine", "build_sink", "piper_voice_path",
]

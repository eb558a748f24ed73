"""The ``[voice]`` section: a voice that answers, off by default.

Example::

    [voice]
    enabled = true
    engine = "piper"                    # or "espeak-ng" (a robotic fallback, only when chosen here)
    voice_en = ""                       # "" = the catalog's piper-joe (`pushkin models fetch piper-joe`)
    voice_ru = "~/voices/ru_RU-irina-medium.onnx"   # no Russian voice ships; "" = say so, never crash
    sink = ""                           # "" = the default output device; "file:/some/dir" writes WAVs
    speak_refusals = true               # "Nothing to scratch."
    speak_errors = true                 # an edit the editor did not apply
    speak_modes = true                  # "Dictation mode."
    tail_ms = 400                       # the microphone stays deaf this long after the voice stops
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ENGINES = ("piper", "espeak-ng")


@dataclass(frozen=True)
class VoiceSettings:
    enabled: bool = False
    engine: str = "piper"
    voice_en: str = ""  # a Piper .onnx (its .onnx.json beside it); "" = the catalog's piper-joe
    voice_ru: str = ""  # a Piper .onnx; "" = no Russian voice (a clear notice when Russian is to be read)
    sink: str = ""  # "" = the default output device (sounddevice); "file:/dir" = WAV files there
    speak_refusals: bool = True
    speak_errors: bool = True
    speak_modes: bool = True
    tail_ms: int = 400  # the recognizer ignores its input this long after the voice ends (room echo)
    wait_silence_s: float = 30.0  # the longest a reply waits for the user to stop speaking; then it is dropped
    max_chars: int = 2000  # a longer text is read up to here (a whole chapter is not a reply)

    def check(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"voice.engine must be one of {', '.join(repr(e) for e in ENGINES)}, not {self.engine!r}")
        if self.sink and not self.sink.startswith("file:"):
            raise ValueError(f"voice.sink must be \"\" (the default output device) or \"file:/a/folder\", "
                             f"not {self.sink!r}")
        if self.sink == "file:":
            raise ValueError("voice.sink = \"file:\" names no folder; write \"file:/a/folder\"")
        if self.tail_ms < 0 or self.tail_ms > 10_000:
            raise ValueError(f"voice.tail_ms must be within 0..10000, not {self.tail_ms}")
        if not math.isfinite(self.wait_silence_s) or self.wait_silence_s <= 0:
            raise ValueError(f"voice.wait_silence_s must be a positive number of seconds, not {self.wait_silence_s}")
        if self.max_chars < 1:
            raise ValueError(f"voice.max_chars must be at least 1, not {self.max_chars}")

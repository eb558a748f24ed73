"""The Whisper encoder of the speech-LLM path, behind a small Protocol.

Two implementations give the same thing, the encoder's frames for a clip (50 a second):

* :class:`CTranslate2WhisperEncoder` — the encoder of the faster-whisper (CTranslate2) model the cascade
  already loads, so the speech-LLM path costs no second copy of Whisper. It accepts clips shorter than
  30 s (1000 mel frames → 500 encoder frames), which keeps short utterances cheap.
* :class:`TransformersWhisperEncoder` — a ``transformers`` ``WhisperEncoder`` (for training, where the
  encoder may be fine-tuned). It insists on 3000 mel frames, so the clip is padded to 30 s and the output
  cut back to the frames that cover the clip.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
import torch

SAMPLE_RATE = 16000
HOP_LENGTH = 160  # samples per mel frame: 100 mel frames a second
ENCODER_STRIDE = 2  # the encoder's second convolution halves the frame rate: 50 frames a second


def encoder_frames(samples: int) -> int:
    """Encoder frames covering ``samples`` samples of 16 kHz audio."""
    return math.ceil(math.ceil(samples / HOP_LENGTH) / ENCODER_STRIDE)


class AudioEncoder(Protocol):
    """Audio → encoder frames."""

    @property
    def output_dim(self) -> int:
        """C, the width of each frame."""

    def encode(self, audio: np.ndarray) -> torch.Tensor:
        """``(samples,)`` float32 16 kHz mono in [-1, 1] → ``(T, C)`` float32 frames on the CPU."""


def _check_audio(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"audio must be mono samples of shape (samples,), got {audio.shape}")
    if audio.size == 0:
        raise ValueError("audio is empty")
    return audio


class CTranslate2WhisperEncoder:
    """The encoder of a faster-whisper ``WhisperModel`` (or of the CTranslate2 model folder it loads)."""

    def __init__(self, model, *, device: str = "cpu", compute_type: str = "int8") -> None:
        if isinstance(model, (str, bytes)) or hasattr(model, "__fspath__"):
            from faster_whisper import WhisperModel

            model = WhisperModel(str(model), device=device, compute_type=compute_type, local_files_only=True)
        self.whisper = model
        self._output_dim: int | None = None

    @property
    def output_dim(self) -> int:
        if self._output_dim is None:
            self._output_dim = int(self.encode(np.zeros(SAMPLE_RATE // 10, dtype=np.float32)).shape[-1])
        return self._output_dim

    def encode(self, audio: np.ndarray) -> torch.Tensor:
        audio = _check_audio(audio)
        features = self.whisper.feature_extractor(audio)  # (n_mels, frames), frames padded by one hop
        mel_frames = math.ceil(audio.size / HOP_LENGTH)
        # CTranslate2 wants an even number of mel frames (its convolution stride is 2).
        keep = mel_frames + (mel_frames % 2)
        features = np.ascontiguousarray(features[:, :keep])
        if features.shape[1] < keep:
            features = np.pad(features, ((0, 0), (0, keep - features.shape[1])))
        output = self.whisper.encode(features)  # StorageView (1, keep / 2, C)
        frames = torch.from_numpy(np.array(output, dtype=np.float32, copy=True))
        return frames[0, : encoder_frames(audio.size)]


class TransformersWhisperEncoder:
    """A transformers ``WhisperEncoder`` with its ``WhisperFeatureExtractor``; pads every clip to 30 s."""

    def __init__(self, encoder, feature_extractor) -> None:
        self.encoder = encoder.eval()
        self.feature_extractor = feature_extractor

    @property
    def output_dim(self) -> int:
        return int(self.encoder.config.d_model)

    def encode(self, audio: np.ndarray) -> torch.Tensor:
        audio = _check_audio(audio)
        inputs = self.feature_extractor(audio, sampling_rate=SAMPLE_RATE, return_tensors="pt")
        features = inputs.input_features.to(next(self.encoder.parameters()).dtype)
        with torch.inference_mode():
            hidden = self.encoder(features).last_hidden_state  # (1, 1500, C)
        return hidden[0, : encoder_frames(audio.size)].float().cpu()

"""Speech recognition behind a small Protocol, with faster-whisper as the implementation.

The recognizer is synchronous: the front end calls it only from its one model thread
(:class:`ModelWorker`), which owns the model and loads it lazily on first use. The language is chosen
among the configured ones only (a hint wins when it is one of them), never freely auto-detected; the
transcript goes through hallucination guards before anyone sees it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import re
import time
import unicodedata
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import numpy as np

from .settings import RecognizerSettings

log = logging.getLogger(__name__)


class ModelMissing(Exception):
    """The configured model is not on disk (and may not be downloaded); the message says how to get it."""


@dataclass(frozen=True)
class RecognizedSegment:
    text: str
    start_s: float
    end_s: float
    no_speech_prob: float
    avg_logprob: float
    compression_ratio: float


@dataclass(frozen=True)
class Recognition:
    """What was heard in one stretch of audio. ``suppressed`` names the guard that emptied ``text``."""

    text: str
    language: str
    language_probability: float = 0.0
    segments: tuple[RecognizedSegment, ...] = ()
    suppressed: str = ""


class Recognizer(Protocol):
    def load(self) -> None:
        """Load the model now (otherwise the first ``transcribe`` does)."""

    def transcribe(self, audio: np.ndarray, *, language: str = "", final: bool = True) -> Recognition:
        """Recognize float32 (T,) 16 kHz audio; ``final`` False is a quick interim pass."""


# ---------------------------------------------------------------------------------------------------
# Hallucination guards
# ---------------------------------------------------------------------------------------------------

# What Whisper writes for silence, noise or breath: subtitle credits and sign-offs from its training data.
KNOWN_SILENCE_HALLUCINATIONS = frozenset(
    {
        "thank you",
        "thank you very much",
        "thanks for watching",
        "thank you for watching",
        "thank you so much for watching",
        "please subscribe",
        "subtitles by the amara org community",
        "you",
        "bye",
        "продолжение следует",
        "спасибо за внимание",
        "спасибо за просмотр",
        "субтитры сделал dimatorzok",
        "субтитры создавал dimatorzok",
        "редактор субтитров а семкин корректор а егорова",
        "подписывайтесь на канал",
    }
)


def normalize_phrase(text: str) -> str:
    """Lowercase, ё→е, punctuation dropped, spaces collapsed: the form hallucinations are compared in."""
    text = unicodedata.normalize("NFKC", text).lower().replace("ё", "е")
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def suppression_reason(segments: Sequence[RecognizedSegment], settings: RecognizerSettings) -> str:
    """Why this recognition should be dropped ("" to keep it)."""
    text = "".join(segment.text for segment in segments).strip()
    if not normalize_phrase(text):
        return "empty"
    if settings.no_speech_threshold is not None and settings.log_prob_threshold is not None:
        # Whisper's own rule: the no-speech token was likely and the words were not believed either.
        if all(s.no_speech_prob > settings.no_speech_threshold and s.avg_logprob < settings.log_prob_threshold for s in segments):
            return "no-speech"
    if normalize_phrase(text) in KNOWN_SILENCE_HALLUCINATIONS:
        # A real "thank you" decodes confidently; the silence hallucination does not.
        confident = all(s.no_speech_prob < 0.1 and s.avg_logprob > -0.4 for s in segments)
        if not confident:
            return "known-hallucination"
    return ""


# ---------------------------------------------------------------------------------------------------
# Streaming agreement
# ---------------------------------------------------------------------------------------------------


class LocalAgreement:
    """LocalAgreement-2: words two successive hypotheses agree on, from the start, are committed.

    The committed prefix only grows; an interim text is the committed words followed by the newest
    hypothesis's words after them.
    """

    def __init__(self) -> None:
        self._previous: list[str] = []
        self.committed: list[str] = []

    def update(self, hypothesis: str) -> tuple[str, str]:
        """Feed a hypothesis; returns (stable prefix, interim text)."""
        words = hypothesis.split()
        agreed = 0
        for a, b in zip(self._previous, words):
            if a != b:
                break
            agreed += 1
        if agreed > len(self.committed) and words[: len(self.committed)] == self.committed:
            self.committed = words[:agreed]
        self._previous = words
        tail = words[len(self.committed) :]
        stable = " ".join(self.committed)
        return stable, " ".join(self.committed + tail)


# ---------------------------------------------------------------------------------------------------
# faster-whisper
# ---------------------------------------------------------------------------------------------------


def choose_device(settings: RecognizerSettings) -> tuple[str, str]:
    """(device, compute type): CUDA float16 with a GPU, CPU int8 otherwise, unless the settings say."""
    device = settings.device
    if device == "auto":
        try:
            import ctranslate2

            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        except Exception:  # a broken CUDA install must not stop CPU recognition
            device = "cpu"
    compute = settings.compute_type
    if compute == "auto":
        compute = "float16" if device == "cuda" else "int8"
    return device, compute


def resolve_model(model: str) -> str:
    """A catalog name or alias ("base", "whisper-base", "Systran/faster-whisper-base") fetched into the models
    folder (`pushkin models fetch`) becomes that folder, checked by sha256; anything else stays as it is
    (a folder, or a name faster-whisper looks up in its own cache or on the hub)."""
    if model.startswith((".", os.path.sep, "~")) or os.path.isdir(model):
        return model
    from pushkin.model import catalog

    try:
        entry = catalog.find(model)
    except catalog.CatalogError:
        return model
    if entry.role != catalog.RECOGNIZER:
        return model
    try:
        path = catalog.verified_path(model)
    except catalog.ChecksumMismatch as error:
        raise ModelMissing(str(error)) from error
    return str(path) if path else model


def missing_model_message(model: str, error: Exception | None = None) -> str:
    if os.path.sep in model or model.startswith(".") or os.path.isdir(model):
        return (
            f"Whisper model folder {model!r} is missing or incomplete ({error}). It must be a CTranslate2 "
            "conversion holding model.bin, config.json, vocabulary.json, tokenizer.json and "
            "preprocessor_config.json, e.g. from `ct2-transformers-converter --model openai/whisper-small "
            f"--output_dir {model} --copy_files tokenizer.json preprocessor_config.json --quantization float16`."
        )
    try:
        from faster_whisper.utils import _MODELS

        repo = _MODELS.get(model, model)
    except ImportError:
        repo = f"Systran/faster-whisper-{model}"
    return (
        f"Whisper model {model!r} is not available offline ({error}). Fetch it with "
        f"`pushkin models fetch {model}` (the hub when reachable, else its offline source), or with "
        f"`huggingface-cli download {repo}` (faster-whisper's CTranslate2 model), or download it elsewhere and "
        "set [hearing.recognizer] model to its local folder."
    )


class FasterWhisperRecognizer:
    """faster-whisper with the language restricted to ``settings.languages`` and the guards applied."""

    def __init__(self, settings: RecognizerSettings = RecognizerSettings(), *, on_progress: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self._model = None
        self._on_progress = on_progress
        self.device, self.compute_type = choose_device(settings)
        self.load_seconds: float | None = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def describe(self) -> str:
        return f"faster-whisper {self.settings.model} ({self.device}, {self.compute_type})"

    def load(self) -> None:
        if self._model is not None:
            return
        from faster_whisper import WhisperModel

        model = resolve_model(self.settings.model)
        if self._on_progress:
            self._on_progress(f"Loading Whisper model {model!r} on {self.device} ({self.compute_type})...")
        started = time.perf_counter()
        local_only = not self.settings.allow_download or os.environ.get("HF_HUB_OFFLINE") == "1"
        looks_like_path = os.path.sep in model or model.startswith(".")
        if looks_like_path and not os.path.isfile(os.path.join(model, "model.bin")):
            raise ModelMissing(missing_model_message(model, FileNotFoundError(os.path.join(model, "model.bin"))))
        try:
            self._model = WhisperModel(
                model,
                device=self.device,
                compute_type=self.compute_type,
                cpu_threads=self.settings.cpu_threads,
                download_root=self.settings.download_root,
                local_files_only=local_only,
            )
        except Exception as error:  # huggingface_hub and CTranslate2 raise many kinds for "not there"
            raise ModelMissing(missing_model_message(model, error)) from error
        self.load_seconds = time.perf_counter() - started
        if self._on_progress:
            self._on_progress(f"Loaded {self.describe()} in {self.load_seconds:.1f} s.")

    def choose_language(self, audio: np.ndarray, hint: str = "") -> tuple[str, float]:
        """The language among the configured ones: the hint if allowed, the only one, or the likeliest."""
        allowed = self.settings.languages
        if hint and hint in allowed:
            return hint, 1.0
        if len(allowed) == 1:
            return allowed[0], 1.0
        self.load()
        _, _, probabilities = self._model.detect_language(audio)
        scores = {language: p for language, p in probabilities if language in allowed}
        if not scores:
            return allowed[0], 0.0
        best = max(scores, key=scores.get)
        total = sum(scores.values()) or 1.0
        return best, scores[best] / total

    def transcribe(self, audio: np.ndarray, *, language: str = "", final: bool = True) -> Recognition:
        self.load()
        audio = np.asarray(audio, dtype=np.float32)
        if audio.size == 0:
            return Recognition("", language or self.settings.languages[0], suppressed="empty")
        chosen, probability = self.choose_language(audio, language)
        s = self.settings
        suppress = list(s.suppress_tokens)
        segments_iter, _ = self._model.transcribe(
            audio,
            language=chosen,
            task="transcribe",
            beam_size=s.beam_size if final else 1,
            temperature=list(s.temperatures) if final else [s.temperatures[0]],
            without_timestamps=s.suppress_timestamps,
            no_speech_threshold=s.no_speech_threshold,
            log_prob_threshold=s.log_prob_threshold,
            compression_ratio_threshold=s.compression_ratio_threshold,
            condition_on_previous_text=False,
            vad_filter=False,  # our VAD already cut the utterance
            suppress_tokens=suppress,
            max_new_tokens=s.max_new_tokens,
            initial_prompt=s.initial_prompt,
        )
        segments = tuple(
            RecognizedSegment(seg.text, seg.start, seg.end, seg.no_speech_prob, seg.avg_logprob, seg.compression_ratio)
            for seg in segments_iter
        )
        reason = suppression_reason(segments, s)
        text = "" if reason else " ".join("".join(seg.text for seg in segments).split())
        return Recognition(text, chosen, probability, segments, reason)


# ---------------------------------------------------------------------------------------------------
# The model thread
# ---------------------------------------------------------------------------------------------------


class ModelWorker:
    """One thread that owns the recognizer: every model call runs there, never on the event loop."""

    def __init__(self, recognizer: Recognizer, name: str = "hearing-model") -> None:
        self.recognizer = recognizer
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def call(self, fn: Callable, *args, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    async def load(self) -> None:
        await self.call(self.recognizer.load)

    async def transcribe(self, audio: np.ndarray, *, language: str = "", final: bool = True) -> Recognition:
        return await self.call(self.recognizer.transcribe, audio, language=language, final=final)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

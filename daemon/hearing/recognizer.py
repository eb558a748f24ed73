"""Speech recognition behind a small Protocol, with faster-whisper as the implementation.

The recognizer is synchronous: the front end calls it only from its one model thread (a
:class:`~pushkin.model.worker.ModelWorker` holding it), which loads the model on first use. Each utterance is encoded
once (in a window padded to ``min_window_s``, not 30 s); language detection, decoding, a decode in the
other language and command rescoring all read that one encoder output. The language is chosen among the
configured ones only (a hint wins when it is one of them), weighed by the last utterances'; the
transcript goes through hallucination and repetition guards before anyone sees it.
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..hearing_api import SAMPLE_RATE
from .commands import CommandVocabulary
from .language import LanguageGuess, LanguagePrior, language_script, script_language
from .rescoring import COMMAND_PROMPTS, RescoringOptions, decide, score_readings
from .settings import RecognizerSettings

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

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
    heard_as: str = ""  # Whisper's free transcript when a command phrase won on the audio (``text``)
    repetition_collapsed: bool = False  # a decoder loop was written once


class Recognizer(Protocol):
    def describe(self) -> str:
        """The model and where it runs, for the status line."""

    def load(self) -> None:
        """Load the model now (otherwise the first ``transcribe`` does)."""

    def transcribe(self, audio: np.ndarray, *, language: str = "", final: bool = True,
                   document_language: str = "", preceding_text: str = "") -> Recognition:
        """Recognize float32 (T,) 16 kHz audio; ``final`` False is a quick interim pass. ``language`` pins
        the language; ``document_language`` (the target document's) may only lean toward one;
        ``preceding_text`` is the document's text just before where the words go."""


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

    def __init__(self, settings: RecognizerSettings = RecognizerSettings(), *, on_progress: Callable[[str], None] | None = None,
                 commands: CommandVocabulary | None = None) -> None:
        self.settings = settings
        self._model: WhisperModel | None = None
        self._on_progress = on_progress
        self.device, self.compute_type = choose_device(settings)
        self.load_seconds: float | None = None
        self._tokenizers: dict = {}
        self.language_prior = LanguagePrior(settings.languages)
        # The grammar's phrases, against which short utterances are rescored; None: no rescoring.
        self.commands: CommandVocabulary | None = commands if commands is not None else (
            CommandVocabulary() if settings.command_rescoring else None)
        self.rescoring = RescoringOptions(margin=settings.command_margin, proposal_lead=settings.command_proposal_lead)
        # The terms the decoder reads before the audio (settings, the user's list, the indexed writing);
        # replaced whole by set_vocabulary, read once per decode, so the next utterance uses a new one.
        self.vocabulary: tuple[str, ...] = tuple(settings.vocabulary)

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def describe(self) -> str:
        return f"faster-whisper {self.settings.model} ({self.device}, {self.compute_type})"

    def whisper_model(self) -> WhisperModel:
        """The faster-whisper model, loaded first if need be (the speech-LLM path reuses its encoder)."""
        self.load()
        assert self._model is not None  # load() set it or raised
        return self._model

    def load(self) -> None:
        if self._model is not None:
            return
        from faster_whisper import WhisperModel

        model = resolve_model(self.settings.model)
        if self._on_progress:
            self._on_progress(f"Loading Whisper model {model!r} on {self.device} ({self.compute_type})...")
        started = time.perf_counter()
        from pushkin.model.hub import hub_offline

        local_only = not self.settings.allow_download or hub_offline()
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
        import ctranslate2

        ctranslate2.set_random_seed(13)  # the temperature fallback samples: the same audio, the same text
        if self._on_progress:
            self._on_progress(f"Loaded {self.describe()} in {self.load_seconds:.1f} s.")

    # --- one encoder pass, then detection, decoding and rescoring on its output -------------------

    def _tokenizer(self, language: str):
        tokenizer = self._tokenizers.get(language)
        if tokenizer is None:
            from faster_whisper.tokenizer import Tokenizer

            model = self.whisper_model()
            tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language)
            self._tokenizers[language] = tokenizer
        return tokenizer

    def encode(self, audio: np.ndarray):
        """The encoder's output for float32 (T,) audio, and the mel frames that hold the audio.

        The window is padded to ``min_window_s`` (not Whisper's 30 s): an unpadded short window makes the
        decoder loop, a 30 s one costs ~8x the encoder time on a CPU for the same transcript.
        """
        s = self.settings
        model = self.whisper_model()
        window = int(min(30.0, max(s.min_window_s, len(audio) / SAMPLE_RATE + 0.1)) * SAMPLE_RATE)
        padded = np.zeros(max(window, len(audio)), dtype=np.float32)
        padded[: len(audio)] = audio
        features = model.feature_extractor(padded)
        frames = min(features.shape[-1], 3000)
        features = features[:, :frames - frames % 2]
        content_frames = min(features.shape[-1], max(1, len(audio) // model.feature_extractor.hop_length))
        return model.encode(features), content_frames

    def choose_language(self, encoder_output, hint: str = "", document_language: str = "") -> LanguageGuess:
        """The language among the configured ones, from this encoder output (no second pass)."""
        allowed = self.settings.languages
        model = self.whisper_model()
        if (hint and hint in allowed) or len(allowed) == 1 or not model.model.is_multilingual:
            return self.language_prior.weigh({}, hint if hint in allowed else allowed[0])
        detected = model.model.detect_language(encoder_output)[0]
        probabilities = {token.strip("<|>"): p for token, p in detected}
        return self.language_prior.weigh(probabilities, document=document_language)

    def _decode(self, encoder_output, audio_s: float, language: str, *, final: bool,
                context: str | None = None) -> tuple[RecognizedSegment, str]:
        """One greedy (or beam) decode with the temperature fallback; the segment and its raw text.
        ``context``: the previous text the decoder reads (default: the user's prompt and vocabulary)."""
        from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens

        s = self.settings
        model = self.whisper_model()
        tokenizer = self._tokenizer(language)
        prompt = list(tokenizer.sot_sequence)
        if s.suppress_timestamps:
            prompt.append(tokenizer.no_timestamps)
        if context is None:
            context = prompt_text(s, self.vocabulary)
        if context:
            prompt = [tokenizer.sot_prev] + tokenizer.encode(" " + context)[-(223):] + prompt
        # Speech runs at most ~6 tokens a second; a bound well above that stops a loop early.
        budget = int(audio_s * 10) + 16
        if s.max_new_tokens is not None:
            budget = min(budget, s.max_new_tokens)
        suppress = list(get_suppressed_tokens(tokenizer, list(s.suppress_tokens)))
        temperatures = list(s.temperatures) if final else [s.temperatures[0]]
        best: tuple[RecognizedSegment, str] | None = None
        for temperature in temperatures:
            options = dict(beam_size=s.beam_size if final else 1) if temperature == 0 else \
                dict(beam_size=1, sampling_topk=0, sampling_temperature=temperature)
            result = model.model.generate(
                encoder_output, [prompt], max_length=min(448, len(prompt) + budget), return_scores=True,
                return_no_speech_prob=True, suppress_tokens=suppress, suppress_blank=True, **options)[0]
            tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
            text = tokenizer.decode(tokens)
            length = len(result.sequences_ids[0])
            avg_logprob = result.scores[0] * length / (length + 1) if length else -10.0
            compression = get_compression_ratio(text) if text.strip() else 0.0
            segment = RecognizedSegment(text, 0.0, audio_s, result.no_speech_prob, avg_logprob, compression)
            if best is None or avg_logprob > best[0].avg_logprob:
                best = (segment, text)
            too_repetitive = s.compression_ratio_threshold is not None and compression > s.compression_ratio_threshold
            unlikely = s.log_prob_threshold is not None and avg_logprob < s.log_prob_threshold
            silent = s.no_speech_threshold is not None and result.no_speech_prob > s.no_speech_threshold
            if not too_repetitive and (not unlikely or silent):
                return segment, text
        if best is None:  # the loop ran no decode
            raise ValueError("[hearing.recognizer] temperatures is empty; the decoder needs at least one")
        return best

    def _document_tail(self, preceding_text: str) -> str:
        """The document's last whole words before the cursor, at most ``document_context_chars`` of them."""
        limit = self.settings.document_context_chars
        tail = preceding_text[-limit:] if limit > 0 else ""
        if len(preceding_text) > len(tail) > 0 and not (tail[0].isspace() or preceding_text[-limit - 1].isspace()):
            tail = tail.partition(" ")[2]  # cut inside a word: from the next whole one
        return " ".join(tail.split())

    def _context(self, document_tail: str, language: str) -> str | None:
        """The final decode's previous text: the user's prompt and vocabulary, then the document's last words
        (``None``: the prompt alone, as an interim decode reads it). The words are read only by a decode in
        their own script: Russian text before an English decode makes Whisper go on in Russian, which would
        break a language the user pinned."""
        if not document_tail or script_language(document_tail, share=0.5) not in ("", language_script(language)):
            return None
        return " ".join(part for part in (prompt_text(self.settings, self.vocabulary), document_tail) if part)

    def _reading(self, encoder_output, audio_s: float, language: str, final: bool,
                 document_tail: str = "") -> Recognition:
        context = self._context(document_tail, language)
        segment, _ = self._decode(encoder_output, audio_s, language, final=final, context=context)
        reason = suppression_reason((segment,), self.settings)
        text = "" if reason else " ".join(segment.text.split())
        return Recognition(text, language, 0.0, (segment,), reason)

    def transcribe(self, audio: np.ndarray, *, language: str = "", final: bool = True,
                   document_language: str = "", preceding_text: str = "") -> Recognition:
        """``language`` pins the language (when configured); ``document_language`` only leans toward it;
        ``preceding_text`` (the document's text before the cursor) is what the final decode reads as the
        previous text, after the user's prompt and vocabulary."""
        self.load()
        audio = np.asarray(audio, dtype=np.float32)
        if audio.size == 0:
            return Recognition("", language or self.settings.languages[0], suppressed="empty")
        audio_s = len(audio) / SAMPLE_RATE
        encoder_output, frames = self.encode(audio)
        guess = self.choose_language(encoder_output, language, document_language)
        document_tail = self._document_tail(preceding_text) if final else ""
        recognition = self._reading(encoder_output, audio_s, guess.language, final, document_tail)
        if final and not guess.pinned:
            recognition = self._second_language(encoder_output, audio_s, guess, recognition, document_tail)
        recognition = replace(recognition, language_probability=guess.probabilities.get(recognition.language, 0.0))
        if recognition.text:
            text, looped = collapse_repetitions(recognition.text)
            if looped:
                recognition = replace(recognition, text=text, repetition_collapsed=True)
            if final:
                recognition = self._rescore_command(encoder_output, frames, recognition)
                self.language_prior.remember(recognition.language)
        return recognition

    def _second_language(self, encoder_output, audio_s: float, guess: LanguageGuess, first: Recognition,
                         document_tail: str = "") -> Recognition:
        """Decode in the other allowed languages when the guess was unsure or its reading was dropped as a
        hallucination (real speech in the wrong language reads as subtitle credits); keep the reading the
        decoder believes most."""
        dropped = first.suppressed in ("known-hallucination", "no-speech")
        doubtful = bool(first.segments) and first.segments[0].avg_logprob < self.settings.language_retry_logprob
        if guess.confidence >= self.settings.language_confidence and not dropped and not doubtful:
            return first
        readings = [first]
        for other in self.settings.languages:
            if other != first.language:
                readings.append(self._reading(encoder_output, audio_s, other, True, document_tail))
        heard = [r for r in readings if r.text]
        if not heard:
            return first
        # The decoder's belief, tilted by the weighed language guess (log-probability per token).
        return max(heard, key=lambda r: r.segments[0].avg_logprob + 0.5 * math.log(max(guess.probabilities.get(r.language, 0.0), 1e-3)))

    def _rescore_command(self, encoder_output, frames: int, recognition: Recognition) -> Recognition:
        vocabulary = self.commands
        if vocabulary is None or not self.settings.command_rescoring or vocabulary.is_command(recognition.text):
            return recognition
        options = self.rescoring
        if len(recognition.text.split()) > self.settings.command_max_words:
            return recognition  # dictation: never compared with commands
        language = recognition.language
        candidates = [c.text for c in vocabulary.shortlist(recognition.text, language, limit=options.candidates,
                                                           max_words=self.settings.command_max_words)]
        # Whisper's own proposal: the audio decoded as if the user had just said commands. It reaches
        # mishearings too far in spelling for the shortlist ("A doot net." for "Undo that."); like the
        # shortlist's phrases it must then beat the free transcript on the audio.
        prompt = COMMAND_PROMPTS.get(language, "")
        proposed = ""
        if prompt:
            proposal, _ = self._decode(encoder_output, frames / 100, language, final=False, context=prompt)
            text = " ".join(proposal.text.split())
            if text and text not in candidates and vocabulary.is_command(text):
                candidates.append(text)
                proposed = text
        if not candidates:
            return recognition
        readings = score_readings(self.whisper_model().model, self._tokenizer(language), encoder_output, frames,
                                  [recognition.text] + candidates, prompt=prompt)
        decision = decide(recognition.text, readings, options, proposed)
        log.debug("command rescoring of %r: %s", recognition.text, decision)
        if not decision.chosen:
            return recognition
        return replace(recognition, text=decision.chosen, heard_as=recognition.text)


def prompt_text(settings: RecognizerSettings, vocabulary: tuple[str, ...] | None = None) -> str:
    """What the decoder reads as the previous text: the user's prompt and vocabulary (``vocabulary``, or
    the settings' own), so their names and terms come out their way."""
    parts = []
    if settings.initial_prompt:
        parts.append(settings.initial_prompt.strip())
    terms = settings.vocabulary if vocabulary is None else vocabulary
    if terms:
        parts.append(", ".join(word.strip() for word in terms if word.strip()) + ".")
    return " ".join(parts)


_LOOP_WORD = re.compile(r"\S+")
_TRAILING_NON_WORD = re.compile(r"\W*$")


def _trailing_punctuation(word: str) -> str:
    match = _TRAILING_NON_WORD.search(word)  # the pattern matches every string, if only as ""
    return match.group() if match else ""


def collapse_repetitions(text: str, *, min_repeats: int = 3, single_word_repeats: int = 4) -> tuple[str, bool]:
    """A decoder loop ("and you and you and you ...") kept once: an n-gram repeated back to back at least
    ``min_repeats`` times (``single_word_repeats`` for one word, so "no, no, no" stays; twice for four
    words or more) is written once."""
    words = _LOOP_WORD.findall(text)
    keys = [normalize_phrase(w) for w in words]
    out: list[str] = []
    i = 0
    changed = False
    while i < len(words):
        collapsed = False
        for n in range(1, min(8, (len(words) - i) // 2) + 1):
            # A sentence said twice in one breath is a loop too; a short phrase may be repeated for effect.
            needed = single_word_repeats if n == 1 else (2 if n >= 4 else min_repeats)
            pattern = keys[i:i + n]
            if not all(pattern):
                continue
            repeats = 1
            while keys[i + repeats * n:i + (repeats + 1) * n] == pattern:
                repeats += 1
            if repeats >= needed:
                last = words[i + (repeats - 1) * n:i + repeats * n]
                first = words[i:i + n]
                # The first copy's words with the last copy's ending punctuation ("Yes, yes, yes." → "Yes.").
                ending = _trailing_punctuation(last[-1]) or _trailing_punctuation(first[-1])
                out.extend(first[:-1] + [_TRAILING_NON_WORD.sub("", first[-1]) + ending])
                i += repeats * n
                rest = keys[i:]
                if rest and len(rest) < n and rest == pattern[:len(rest)]:
                    i = len(words)  # the loop was cut off mid-copy: that tail is the loop too
                changed = collapsed = True
                break
        if not collapsed:
            out.append(words[i])
            i += 1
    return " ".join(out), changed

"""The speech-LLM front end: Whisper encoder → projector → audio spliced into the prompt → composed Gemma.

The answer is one line in the output language (``dictate: ...`` or ``command: ...``), parsed strictly.
When the line is outside the grammar there is no text to fall back to (the model heard the audio, not a
transcript), so :class:`SpeechOutput` says so and the daemon runs the cascade (faster-whisper) on the same
audio: no words are lost.

The audio adapter is a registry adapter of kind ``audio``; beside its LoRA weights it carries the trained
projector (``projector.safetensors``) and silence vectors (``silence.safetensors``), with their sizes in the
safetensors metadata. Without it the speech-LLM front end is unavailable and says so.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Union

from pushkin.audio_lora.encoder import AudioEncoder
from pushkin.audio_lora.projector import PROJECTOR_FILE, SILENCE_FILE, AudioProjector, ProjectorConfig, SilenceEmbedding
from pushkin.audio_lora.splice import AudioSpan, Silence, build_prompt_ids, splice_embeddings

from . import tokens

if TYPE_CHECKING:
    import numpy as np
from .composed import ComposedModel, CompositionStatus
from .generation import SamplingOptions
from .output_language import DEFAULT_GRAMMAR, CommandGrammar, ModelOutput, OutputLanguageError, parse_output_line
from .registry import AdapterEntry, AdapterKind, AdapterRegistry, Mode

SPEECH_INSTRUCTION = "Listen, then write one line: dictation or a command.\n"


class FrontEnd(enum.Enum):
    CASCADE = "cascade"  # faster-whisper text → the intent grammar
    SPEECH_LLM = "speech-llm"  # Whisper encoder → projector → composed Gemma → the output language


class SpeechLLMUnavailable(RuntimeError):
    """The speech-LLM front end was asked for but cannot run; the message says what is missing."""


@dataclass(frozen=True)
class FrontEndStatus:
    requested: FrontEnd
    usable: bool
    message: str


def parse_front_end(value: str) -> FrontEnd:
    try:
        return FrontEnd(value)
    except ValueError:
        raise ValueError(f"unknown front end {value!r}; use 'cascade' or 'speech-llm'") from None


def find_audio_adapter(registry: AdapterRegistry) -> AdapterEntry:
    """The registry's trained audio adapter; SpeechLLMUnavailable when there is none (or it lacks its parts)."""
    where = registry.root or "(no adapter folder configured)"
    for entry in registry.of_kind(AdapterKind.AUDIO):
        lacking = [f for f in (PROJECTOR_FILE, SILENCE_FILE) if not entry.extra_file(f).is_file()]
        if not lacking:
            return entry
    raise SpeechLLMUnavailable(
        f"the speech-llm front end needs a trained audio adapter (an adapter of kind 'audio' with "
        f"{PROJECTOR_FILE} and {SILENCE_FILE}) in {where}, and there is none. Train one with the audio "
        f"adapter recipe, or set the front end to 'cascade'.")


def check_front_end(requested: FrontEnd | str, registry: AdapterRegistry) -> FrontEndStatus:
    requested = parse_front_end(requested) if isinstance(requested, str) else requested
    if requested is FrontEnd.CASCADE:
        return FrontEndStatus(requested, True, "cascade: faster-whisper transcripts")
    try:
        entry = find_audio_adapter(registry)
    except SpeechLLMUnavailable as exc:
        return FrontEndStatus(requested, False, str(exc))
    return FrontEndStatus(requested, True, f"speech-llm: audio adapter {entry.manifest.name!r}")


@dataclass
class AudioParts:
    """The trained audio-side modules of an audio adapter."""

    projector: AudioProjector
    silence: SilenceEmbedding


def save_audio_parts(folder: str | Path, parts: AudioParts) -> None:
    """Write the projector and silence vectors beside an audio adapter's LoRA weights (safetensors + sizes)."""
    from safetensors.torch import save_file

    folder = Path(folder)
    config = parts.projector.config
    save_file({k: v.detach().contiguous().cpu() for k, v in parts.projector.state_dict().items()},
              str(folder / PROJECTOR_FILE),
              metadata={"input_dim": str(config.input_dim), "output_dim": str(config.output_dim),
                        "hidden_dim": str(config.hidden_dim), "stack_factor": str(config.stack_factor)})
    save_file({"table": parts.silence.table.weight.detach().contiguous().cpu()}, str(folder / SILENCE_FILE),
              metadata={"bounds_s": ",".join(repr(b) for b in parts.silence.bounds_s)})


def load_audio_parts(entry: AdapterEntry, *, device="cpu", dtype=None) -> AudioParts:
    from safetensors import safe_open
    from safetensors.torch import load_file

    try:
        with safe_open(str(entry.extra_file(PROJECTOR_FILE)), "pt") as f:
            meta = f.metadata() or {}
        config = ProjectorConfig(input_dim=int(meta["input_dim"]), output_dim=int(meta["output_dim"]),
                                 hidden_dim=int(meta.get("hidden_dim", 0)), stack_factor=int(meta["stack_factor"]))
        projector = AudioProjector(config)
        projector.load_state_dict(load_file(str(entry.extra_file(PROJECTOR_FILE))))
        with safe_open(str(entry.extra_file(SILENCE_FILE)), "pt") as f:
            bounds = tuple(float(b) for b in (f.metadata() or {})["bounds_s"].split(","))
        table = load_file(str(entry.extra_file(SILENCE_FILE)))["table"]
        silence = SilenceEmbedding(bounds, table.shape[1])
        silence.table.weight.data.copy_(table)
    except (KeyError, ValueError, RuntimeError, OSError) as exc:
        raise SpeechLLMUnavailable(f"the audio adapter in {entry.folder} has broken projector/silence files: {exc}") from exc
    projector.to(device=device, dtype=dtype).eval()
    silence.to(device=device, dtype=dtype).eval()
    return AudioParts(projector, silence)


AudioPiece = Union[str, Silence, "np.ndarray"]  # text, a pause, or a (samples,) float32 numpy clip


@dataclass(frozen=True)
class SpeechOutput:
    """The model's answer for one utterance; ``output`` is None when its line was outside the grammar."""

    output: ModelOutput | None
    raw_line: str
    rejected: str = ""
    cancelled: bool = False
    composition: CompositionStatus | None = field(default=None, compare=False)


class SpeechLLM:
    """The speech-LLM front end on a composed model. Runs on the model worker thread."""

    def __init__(self, composed: ComposedModel, encoder: AudioEncoder, parts: AudioParts | None = None,
                 grammar: CommandGrammar = DEFAULT_GRAMMAR) -> None:
        self.composed = composed
        self.encoder = encoder
        dtype = next(composed.loaded.model.parameters()).dtype
        self.parts = parts or load_audio_parts(find_audio_adapter(composed.registry), device=composed.device, dtype=dtype)
        if self.parts.projector.config.input_dim != encoder.output_dim:
            raise SpeechLLMUnavailable(f"the audio adapter's projector reads {self.parts.projector.config.input_dim}-wide "
                                       f"frames, the encoder gives {encoder.output_dim}: they were not trained together")
        if self.parts.projector.config.output_dim != composed.loaded.hidden_size:
            raise SpeechLLMUnavailable(f"the audio adapter's projector writes {self.parts.projector.config.output_dim}-wide "
                                       f"vectors, the model is {composed.loaded.hidden_size} wide")
        self.grammar = grammar
        self.ids = tokens.special_token_ids(composed.tokenizer, self.parts.silence.bounds_s)

    def build_inputs(self, pieces: Sequence[AudioPiece]):
        """Prompt ids ``(1, L)`` and spliced embeddings ``(1, L, D)`` for text, pauses and audio clips."""
        import torch

        prompt: list = [f"{tokens.START_OF_TURN}user\n{SPEECH_INSTRUCTION}"]
        projected = []
        with torch.inference_mode():
            for piece in pieces:
                if isinstance(piece, (str, Silence)):
                    prompt.append(piece)
                    continue
                frames = self.encoder.encode(piece).to(self.composed.device)  # (T, C)
                vectors = self.parts.projector(frames.unsqueeze(0).to(self.parts.projector.linear_in.weight.dtype))[0]
                projected.append(vectors)
                prompt.append(AudioSpan(vectors.shape[0]))
            prompt.append(f"{tokens.END_OF_TURN}\n{tokens.START_OF_TURN}model\n")
            ids = build_prompt_ids(self.composed.tokenizer, prompt, audio_token_id=self.ids.audio,
                                   silence_token_ids=self.ids.silence, bucket_of=self.parts.silence.bucket,
                                   bos_token_id=self.ids.bos)
            input_ids = torch.tensor([ids], device=self.composed.device)
            audio = torch.cat(projected, dim=0).unsqueeze(0) if projected else None
            embeds = splice_embeddings(input_ids, self.composed.embed(input_ids), audio_token_id=self.ids.audio,
                                       audio_embeds=audio, silence_token_ids=self.ids.silence,
                                       silence_table=self.parts.silence.table.weight, scale=self.composed.embed_scale)
        return input_ids, embeds

    def hear(self, pieces: Sequence[AudioPiece], cancel: threading.Event | None = None,
             max_new_tokens: int = 96) -> SpeechOutput:
        status = self.composed.compose(Mode.DICTATION)
        _, embeds = self.build_inputs(pieces)
        options = SamplingOptions(max_new_tokens=max_new_tokens, temperature=0.0, min_p=0.0, stop_strings=("\n",))
        raw = "".join(self.composed.stream_embeds(embeds, options, cancel)).strip()
        if cancel is not None and cancel.is_set():
            return SpeechOutput(None, raw, cancelled=True, composition=status)
        try:
            return SpeechOutput(parse_output_line(raw, self.grammar), raw, composition=status)
        except OutputLanguageError as exc:
            return SpeechOutput(None, raw, rejected=str(exc), composition=status)

"""Audio manifests for the audio adapter: validation, VAD/alignment silence markers, cached encoder frames.

A manifest is JSONL, one utterance per line::

    {"audio": "clips/0001.wav", "transcript": "She opened the window.", "source": "speaker-3"}
    {"audio": "clips/0002.wav", "command": "rewrite task=rephrase"}
    {"audio": "clips/0003.wav", "target": "command: undo", "alignment": [{"word": "undo", "start": 0.41, "end": 0.83}]}

``audio`` is relative to the manifest's folder unless absolute; 16 kHz mono WAV/FLAC. The target line is
``dictate: <transcript>``, ``command: <command>`` or the ``target`` itself, and must parse in the model's
output language. :func:`read_manifest` checks every line and raises :class:`ManifestError` listing each bad
one (missing audio, wrong sample rate, not mono, empty transcript, a target outside the output language,
an alignment outside the clip).

The utterance becomes the pieces the runtime's speech-LLM path reads (float32 speech clips and
``Silence`` markers) exactly as the daemon makes them: the clip runs through the hearing
:class:`~pushkin.daemon.hearing.vad.VadSegmenter` with the daemon's settings, and its silence runs become
markers; with an alignment, gaps between aligned words become the markers instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pushkin.audio_lora.splice import Silence

SAMPLE_RATE = 16000


class ManifestError(ValueError):
    """A manifest with bad lines; the message lists them (file:line: problem)."""


@dataclass(frozen=True)
class WordTiming:
    word: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class AudioRecord:
    audio: Path
    target: str  # the output-language line
    source: str
    alignment: tuple[WordTiming, ...] = ()
    spoken: str = ""  # the words as said ('transcript', else 'text'): the text path's input, for distillation


Piece = np.ndarray | Silence  # a float32 (samples,) speech clip, or a pause


def target_line(record: dict) -> str:
    """The output-language line of a manifest record (raises ValueError when there is none)."""
    if isinstance(record.get("target"), str) and record["target"].strip():
        return record["target"].strip()
    if isinstance(record.get("command"), str) and record["command"].strip():
        return f"command: {record['command'].strip()}"
    if isinstance(record.get("transcript"), str) and record["transcript"].strip():
        return f"dictate: {' '.join(record['transcript'].split())}"
    raise ValueError("empty transcript: give a non-empty 'transcript', 'command' or 'target'")


def spoken_text(record: dict) -> str:
    """The words as said, from a manifest record's 'transcript' (else 'text'); empty when it has neither."""
    for key in ("transcript", "text"):
        if isinstance(record.get(key), str) and record[key].strip():
            return " ".join(record[key].split())
    return ""


def read_manifest(path: str | Path, *, check_grammar: bool = True) -> list[AudioRecord]:
    """Every record of a manifest, checked; ManifestError lists all the bad lines at once."""
    import soundfile

    from pushkin.model.output_language import OutputLanguageError, parse_output_line

    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: manifest not found")
    records, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"{where}: not valid JSON ({error.msg})")
            continue
        if not isinstance(raw, dict) or not isinstance(raw.get("audio"), str) or not raw["audio"].strip():
            problems.append(f"{where}: each line needs an 'audio' path")
            continue
        audio = Path(raw["audio"])
        audio = audio if audio.is_absolute() else path.parent / audio
        try:
            target = target_line(raw)
        except ValueError as error:
            problems.append(f"{where}: {error}")
            continue
        if check_grammar:
            try:
                parse_output_line(target)
            except OutputLanguageError as error:
                problems.append(f"{where}: target {target!r} is outside the output language ({error})")
                continue
        if not audio.is_file():
            problems.append(f"{where}: missing audio {audio}")
            continue
        try:
            info = soundfile.info(str(audio))
        except Exception as error:  # soundfile raises its own error types for unreadable files
            problems.append(f"{where}: unreadable audio {audio} ({error})")
            continue
        if info.samplerate != SAMPLE_RATE:
            problems.append(f"{where}: {audio} is {info.samplerate} Hz; the audio adapter needs {SAMPLE_RATE} Hz "
                            f"(resample, e.g. sox in.wav -r 16000 out.wav)")
            continue
        if info.channels != 1:
            problems.append(f"{where}: {audio} has {info.channels} channels; the audio adapter needs mono")
            continue
        alignment: tuple[WordTiming, ...] = ()
        if raw.get("alignment"):
            try:
                alignment = tuple(WordTiming(str(w["word"]), float(w["start"]), float(w["end"]))
                                  for w in raw["alignment"])
            except (KeyError, TypeError, ValueError):
                problems.append(f"{where}: alignment must be a list of {{word, start, end}}")
                continue
            duration = info.frames / info.samplerate
            bad = [w for w in alignment if not (0 <= w.start_s < w.end_s <= duration + 1e-3)]
            if bad or any(b.start_s < a.end_s - 1e-3 for a, b in zip(alignment, alignment[1:])):
                problems.append(f"{where}: alignment times must be increasing and inside the {duration:.2f} s clip")
                continue
        records.append(AudioRecord(audio, target, str(raw.get("source") or audio.parent.name), alignment,
                                   spoken_text(raw)))
    if problems:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        raise ManifestError(f"{path}: {len(problems)} bad line{'s' if len(problems) > 1 else ''}:\n  " + "\n  ".join(shown))
    if not records:
        raise ManifestError(f"{path}: no utterances")
    return records


def load_audio(path: Path) -> np.ndarray:
    """int16 (samples,) of a 16 kHz mono file."""
    import soundfile

    samples, rate = soundfile.read(str(path), dtype="int16", always_2d=False)
    if rate != SAMPLE_RATE or samples.ndim != 1:
        raise ManifestError(f"{path}: expected {SAMPLE_RATE} Hz mono audio")
    return samples


def vad_pieces(samples: np.ndarray, settings=None) -> list[Piece]:
    """The pieces the daemon's VAD makes of a clip: speech clips (float32) and Silence markers.

    All utterances the segmenter finds in the clip are joined (a training clip is one utterance by
    definition), with the pause between them as a marker. Raises ManifestError when it finds no speech.
    """
    from pushkin.daemon.hearing.settings import VadSettings
    from pushkin.daemon.hearing.vad import SpeechAudio, UtteranceClosed, VadSegmenter

    segmenter = VadSegmenter(settings or VadSettings())
    events = segmenter.feed(samples.astype(np.int16).tobytes()) + segmenter.finish()
    utterances = [e.utterance for e in events if isinstance(e, UtteranceClosed)]
    if not utterances:
        raise ManifestError("the VAD found no speech in the clip")
    pieces: list[Piece] = []
    for i, utterance in enumerate(utterances):
        if i:
            pieces.append(Silence(max(0.0, utterance.speech_start_s - utterances[i - 1].speech_end_s)))
        for part in utterance.parts:
            if isinstance(part, SpeechAudio):
                pieces.append(part.samples.astype(np.float32) / 32768.0)
            else:
                pieces.append(Silence(part.duration_s))
    return pieces


def alignment_pieces(samples: np.ndarray, alignment: Sequence[WordTiming], min_gap_s: float = 0.15,
                     pad_s: float = 0.1) -> list[Piece]:
    """Pieces from word timings: gaps of at least ``min_gap_s`` between words become Silence markers."""
    pieces: list[Piece] = []
    start = max(0.0, alignment[0].start_s - pad_s)
    for word, following in zip(alignment, list(alignment[1:]) + [None]):
        if following is None or following.start_s - word.end_s >= min_gap_s:
            end = word.end_s if following is not None else min(len(samples) / SAMPLE_RATE, word.end_s + pad_s)
            pieces.append(samples[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)].astype(np.float32) / 32768.0)
            if following is not None:
                pieces.append(Silence(following.start_s - word.end_s))
                start = following.start_s
    return pieces


def record_pieces(record: AudioRecord, vad_settings=None) -> list[Piece]:
    samples = load_audio(record.audio)
    try:
        return alignment_pieces(samples, record.alignment) if record.alignment else vad_pieces(samples, vad_settings)
    except ManifestError as error:
        raise ManifestError(f"{record.audio}: {error}") from None


@dataclass(frozen=True)
class EncodedUtterance:
    """An utterance as encoder frames: pieces are ``(T_i, C)`` float32 tensors or Silence markers."""

    pieces: tuple
    target: str
    source: str
    spoken: str = ""  # the words as said, when the manifest gives them


def encode_records(records: Sequence[AudioRecord], encoder, cache_dir: str | Path | None, encoder_id: str,
                   vad_settings=None) -> list[EncodedUtterance]:
    """VAD (or alignment) → frozen encoder, per record; frames are cached as safetensors by content."""
    import torch
    from safetensors.torch import load_file, save_file

    cache = Path(cache_dir) if cache_dir else None
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
    out = []
    for record in records:
        key = None
        if cache:
            digest = hashlib.sha256(record.audio.read_bytes())
            digest.update(encoder_id.encode())
            digest.update(repr(record.alignment).encode())
            key = cache / f"{digest.hexdigest()[:24]}.safetensors"
        if key is not None and key.is_file():
            stored = load_file(str(key))
            layout = json.loads(bytes(stored.pop("layout").tolist()).decode())
            pieces = tuple(stored[f"p{i}"] if kind == "audio" else Silence(kind) for i, kind in enumerate(layout))
        else:
            pieces = tuple(piece if isinstance(piece, Silence) else encoder.encode(piece).float()
                           for piece in record_pieces(record, vad_settings))
            if key is not None:
                layout = ["audio" if not isinstance(p, Silence) else p.duration_s for p in pieces]
                tensors = {f"p{i}": p.contiguous() for i, p in enumerate(pieces) if not isinstance(p, Silence)}
                tensors["layout"] = torch.tensor(list(json.dumps(layout).encode()), dtype=torch.uint8)
                save_file(tensors, str(key))
        out.append(EncodedUtterance(pieces, record.target, record.source, record.spoken))
    return out


def open_encoder(name: str, compute_type: str = "float32"):
    """The frozen Whisper encoder: a CTranslate2 folder (what the runtime loads) or a transformers model."""
    path = Path(name)
    if (path / "model.bin").is_file():
        import torch

        from pushkin.audio_lora.encoder import CTranslate2WhisperEncoder

        # Loading a CTranslate2 model resets the process's OpenMP thread count, which torch shares: keep
        # torch's (on a busy 2-core machine, one extra spinning thread made training steps ~40x slower).
        threads = torch.get_num_threads()
        encoder = CTranslate2WhisperEncoder(str(path), compute_type=compute_type)
        torch.set_num_threads(threads)
        return encoder
    from transformers import WhisperFeatureExtractor, WhisperModel

    from pushkin.audio_lora.encoder import TransformersWhisperEncoder

    model = WhisperModel.from_pretrained(name)
    return TransformersWhisperEncoder(model.get_encoder(), WhisperFeatureExtractor.from_pretrained(name))

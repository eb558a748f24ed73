"""Commands that survive recognition errors: the utterance's audio decides between Whisper's free
transcript and the command phrases it is close to.

Whisper's language prior prefers common English to terse commands ("Undo." → "And you.", "Cap that." →
"Cut that."), yet its decoder, asked how probable a given text is under this audio
(CTranslate2's ``Whisper.align``), still finds the command nearly as likely. Both readings are scored
after a short prompt of commands (as if the user had just said some), which is what a user of a voice
editor is doing; a phrase close in spelling wins when its log-probability is within ``margin`` of the
transcript's, Whisper's own proposal (not close in spelling) when it beats the transcript by
``proposal_lead``; either way its tokens must be believed on average. The candidates are the grammar's phrases closest in spelling and
Whisper's own proposal (the audio decoded after that prompt). A dictated sentence is never rescored:
only short utterances are, and a real sentence scores far above any command under its own audio.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# What the user "just said" before the scored text: commands of the language, so that terse phrases are
# not judged by the prior of subtitles.
COMMAND_PROMPTS = {
    "en": "Undo. Undo that. Redo. Scratch that. Delete that. Cap that. Select all. New line. New paragraph. "
          "Comma. Delete the last sentence.",
    "ru": "Отмени. Сотри это. Удали это. Выдели все. Новая строка. Новый абзац. Запятая. "
          "Удали последнее предложение.",
}


@dataclass(frozen=True)
class RescoringOptions:
    margin: float = 3.5  # nats: how far below the transcript's log-probability a command may score and win
    min_token_logprob: float = -2.2  # the command's mean log-probability per token must reach this
    candidates: int = 4  # phrases scored per utterance (one batched align call)
    proposal_lead: float = 3.0  # nats by which a command only Whisper's prompted decode proposed must win


@dataclass(frozen=True)
class ScoredReading:
    text: str
    logprob: float  # sum over the text's tokens
    tokens: int


@dataclass(frozen=True)
class RescoringDecision:
    """The readings scored; ``chosen`` is the command's text when it won, else ""."""

    transcript: ScoredReading
    commands: tuple[ScoredReading, ...]
    chosen: str = ""


def score_readings(model, tokenizer, encoder_output, num_frames: int, texts: Sequence[str],
                   prompt: str = "") -> list[ScoredReading]:
    """Log-probability of each text under the audio: one batched ``align`` call.

    ``encoder_output`` is the utterance's (1, frames/2, d_model) StorageView; it is repeated per text.
    """
    import ctranslate2

    token_lists = [tokenizer.encode(" " + text.strip()) for text in texts]
    start = list(tokenizer.sot_sequence) + [tokenizer.no_timestamps]
    if prompt:
        start = [tokenizer.sot_prev] + tokenizer.encode(" " + prompt.strip()) + start
    encoded = np.asarray(encoder_output)
    batch = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.repeat(encoded, len(texts), axis=0)))
    results = model.align(batch, start, token_lists, [num_frames] * len(texts))
    readings = []
    for text, tokens, result in zip(texts, token_lists, results):
        logprob = sum(math.log(max(p, 1e-12)) for p in result.text_token_probs)
        readings.append(ScoredReading(text, logprob, len(tokens)))
    return readings


def decide(transcript: str, readings: Sequence[ScoredReading], options: RescoringOptions,
           proposed: str = "") -> RescoringDecision:
    """``readings`` are the transcript's then each candidate command's, in order; ``proposed`` names the
    candidate that only Whisper's prompted decode put forward (not close in spelling): it must beat the
    transcript by ``proposal_lead`` instead of coming within ``margin`` of it."""
    heard, commands = readings[0], tuple(readings[1:])

    def wins(reading: ScoredReading) -> bool:
        floor = heard.logprob + options.proposal_lead if reading.text == proposed else heard.logprob - options.margin
        return reading.logprob >= floor and reading.logprob / max(reading.tokens, 1) >= options.min_token_logprob

    winners = [reading for reading in commands if wins(reading)]
    best = max(winners, key=lambda r: r.logprob, default=None)
    return RescoringDecision(heard, commands, best.text if best is not None else "")

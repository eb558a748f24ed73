"""Running rewrite tasks and open-ended command classification on the composed model.

Both run on the model worker thread (they switch adapters and generate). A rewrite streams: the daemon
shows the text as it grows and cancels through a ``threading.Event`` when a new utterance or "stop"
arrives. Best-of-n (off by default) samples n candidates and keeps the one a scorer likes best.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from pushkin.text_lora.tasks import RewriteTask, Scorer, build_prompt, clean_output, get_task, pick_best, stop_strings

from .composed import CompositionStatus, LanguageModel
from .generation import GREEDY, SamplingOptions
from .output_language import (
    DEFAULT_GRAMMAR,
    CommandGrammar,
    DictateOutput,
    ModelOutput,
    OutputLanguageError,
    parse_output_line,
)
from .persona_prompt import persona_context, set_persona_context
from .registry import Mode


@dataclass(frozen=True)
class RewriteOptions:
    """``best_of`` > 1 samples that many candidates (needs a scorer). ``min_p``/``temperature`` override the
    task's settings when set. ``seed`` makes sampling repeatable."""

    best_of: int = 1
    min_p: float | None = None
    temperature: float | None = None
    max_new_tokens: int | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.best_of < 1:
            raise ValueError(f"best_of must be at least 1, not {self.best_of}")


@dataclass(frozen=True)
class RewriteRequest:
    """Rewrite ``text`` ("that") with ``task``; for "continue", ``context_before`` is the text before the cursor."""

    task: str
    text: str = ""
    context_before: str = ""


@dataclass(frozen=True)
class RewriteResult:
    task: str
    text: str  # what to apply ("" when cancelled before anything useful)
    cancelled: bool
    candidates: tuple[str, ...] = ()
    scores: tuple[float, ...] = ()
    composition: CompositionStatus | None = None


def sampling_for(task: RewriteTask, text: str, options: RewriteOptions, candidate: int = 0) -> SamplingOptions:
    seed = None if options.seed is None else options.seed + candidate
    return SamplingOptions(
        max_new_tokens=options.max_new_tokens or task.token_budget(text),
        temperature=task.temperature if options.temperature is None else options.temperature,
        min_p=task.min_p if options.min_p is None else options.min_p,
        stop_strings=stop_strings(task),
        seed=seed,
    )


def stream_rewrite(lm: LanguageModel, request: RewriteRequest, options: RewriteOptions = RewriteOptions(),
                   cancel: threading.Event | None = None) -> Iterator[str]:
    """The rewritten text in pieces, as generated (raw: not yet trimmed). Composes base + persona + audio + task."""
    task = get_task(request.task)
    prompt = build_prompt(task, request.text, context_before=request.context_before)
    lm.compose(Mode.REWRITE, task.name)
    set_persona_context(lm, persona_context(request.context_before, request.text))
    yield from lm.stream(prompt, sampling_for(task, request.text or request.context_before, options), cancel)


def rewrite(lm: LanguageModel, request: RewriteRequest, options: RewriteOptions = RewriteOptions(),
            cancel: threading.Event | None = None, scorer: Scorer | None = None) -> RewriteResult:
    """Run a rewrite to the end (or until cancelled); with ``best_of`` > 1, score candidates with ``scorer``."""
    task = get_task(request.task)
    if options.best_of > 1 and scorer is None:
        raise ValueError("best-of-n needs a scorer (source, candidate) -> float")
    prompt = build_prompt(task, request.text, context_before=request.context_before)
    status = lm.compose(Mode.REWRITE, task.name)
    set_persona_context(lm, persona_context(request.context_before, request.text))
    source = request.text or request.context_before
    candidates: list[str] = []
    for n in range(options.best_of):
        pieces = list(lm.stream(prompt, sampling_for(task, source, options, n), cancel))
        if cancel is not None and cancel.is_set():
            return RewriteResult(task.name, "", True, tuple(candidates), (), status)
        candidates.append(clean_output(task, "".join(pieces)))
    if options.best_of == 1:
        return RewriteResult(task.name, candidates[0], False, tuple(candidates), (), status)
    assert scorer is not None  # refused above when best_of > 1
    best, scores = pick_best(source, candidates, scorer)
    return RewriteResult(task.name, candidates[best], False, tuple(candidates), scores, status)


@dataclass(frozen=True)
class Classification:
    """What the model made of an utterance. ``output`` is always safe to act on: when the model's line was
    outside the grammar (``rejected`` says why) it is the utterance as dictation, and a dictation always
    carries the utterance's own words, never the model's."""

    output: ModelOutput
    raw_line: str
    rejected: str = ""
    composition: CompositionStatus | None = field(default=None, compare=False)


_CLASSIFY_INSTRUCTION = (
    "Decide whether the utterance is dictated text or an editing command. Answer with one line: "
    "'dictate: <the text>' or one of these commands:\n"
)
# Worked examples for the few-shot prompt (a pretrained base knows no chat turns); those the grammar in use
# does not allow are left out.
_CLASSIFY_EXAMPLES = (
    ("the sea was calm that morning", "dictate: the sea was calm that morning"),
    ("could you get rid of the last two words", "command: delete unit=word count=2"),
    ("сделай это покороче", "command: rewrite task=shorten"),
    ("please take that back", "command: undo"),
)


def classification_prompt(utterance: str, grammar: CommandGrammar = DEFAULT_GRAMMAR) -> str:
    """A few-shot completion: the instruction and grammar, worked examples, then the utterance; the answer is
    the line after the last ``Answer:`` (generation stops at the newline)."""
    shots = []
    for said, answer in _CLASSIFY_EXAMPLES:
        try:
            parse_output_line(answer, grammar)
        except OutputLanguageError:
            continue
        shots.append(f"Utterance: {said}\nAnswer: {answer}")
    utterance_line = " ".join(utterance.split())
    return "\n\n".join([_CLASSIFY_INSTRUCTION + grammar.describe(), *shots, f"Utterance: {utterance_line}\nAnswer:"])


def classify_utterance(lm: LanguageModel, utterance: str, grammar: CommandGrammar = DEFAULT_GRAMMAR,
                       cancel: threading.Event | None = None, max_new_tokens: int = 48) -> Classification:
    """Classify an utterance the grammar did not match, with the command composition; never loses words."""
    status = lm.compose(Mode.COMMAND)
    set_persona_context(lm, persona_context(utterance=utterance))
    options = SamplingOptions(max_new_tokens=max_new_tokens, temperature=GREEDY.temperature, min_p=0.0,
                              stop_strings=("\n",))
    raw = "".join(lm.stream(classification_prompt(utterance, grammar), options, cancel)).strip()
    return classification_of(raw, utterance, grammar, status)


def classification_of(raw: str, utterance: str, grammar: CommandGrammar = DEFAULT_GRAMMAR,
                      status: CompositionStatus | None = None) -> Classification:
    """Parse the model's line; anything outside the grammar, and any dictation, becomes the utterance itself."""
    try:
        output = parse_output_line(raw, grammar)
    except OutputLanguageError as exc:
        return Classification(DictateOutput(utterance), raw, rejected=str(exc), composition=status)
    if isinstance(output, DictateOutput):
        output = DictateOutput(utterance)
    return Classification(output, raw, composition=status)

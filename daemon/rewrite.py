"""Rewrite commands in the daemon: run on the model worker thread, stream, cancel, apply as one undo group.

The intent engine turns "rephrase that", "make that more formal", "перефразируй это", ... into
a plan with ``Intent(COMMAND, name="rewrite", args={"task", ...})`` and no edits, whose ``span`` is the
[start, end) to rewrite ("that": the selection, else the last dictated phrase; for "continue" start == end ==
the cursor). :class:`RewriteRunner` then:

* runs the task on the model worker thread (never on the event loop), streaming partial text to a
  callback (for a status line);
* cancels when the daemon calls :meth:`RewriteRunner.cancel` (a new utterance, or "stop");
* refuses a result the guards reject (:func:`pushkin.text_lora.guards.check_rewrite`: empty, an echo of
  the prompt, repeats, separator characters, the wrong language, far off the expected length): the plan
  then carries only a message and the user's text stays as it was;
* returns an :class:`~pushkin.daemon.planning.EditPlan` with ONE edit and ONE undo group, so a single
  "undo" reverts the whole rewrite;
* or, for editors with the "proposals" capability, a :class:`PendingProposal` held by a
  :class:`ProposalBook` until "accept" (then the same edits, carried through any typing since) or "reject".

:class:`RewriteExecutor` shows a proposal and progress through the :class:`~pushkin.daemon.planning.EditorChannel`
it is given; :class:`pushkin.daemon.model_planner.ModelPlanner` decides when to call it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pushkin.model.output_language import CommandOutput
from pushkin.model.rewrite import Classification, RewriteOptions, RewriteRequest, classify_utterance, stream_rewrite
from pushkin.model.worker import ModelWorker, StreamHandle, WorkerState, WorkerStatus
from pushkin.proto.textedit import map_offset, validate_edits
from pushkin.proto.types import Component, Intent, IntentKind, Proposal, Selection, TextEdit
from pushkin.text_lora.guards import check_rewrite
from pushkin.text_lora.tasks import UnknownTaskError, clean_output, get_task, pick_best

from .open_commands import looks_like_command
from .planning import DocumentSnapshot, EditorChannel, EditPlan

log = logging.getLogger(__name__)

LM_COMPONENT = "language-model"  # the status line's name for the language model
PROGRESS_CODE = "rewrite-progress"  # StatusNotice code of the partial rewrite text
REWRITE_COMMAND = "rewrite"
PROGRESS_INTERVAL_S = 0.1  # at most ten progress notices a second (the editor's queue is bounded)


class RewriteError(ValueError):
    """A rewrite command that cannot run (no model, unknown task, a range outside the document)."""


@dataclass(frozen=True)
class RewriteOutcome:
    """The result of one rewrite: a plan to send (empty when cancelled or nothing changed) and the text."""

    plan: EditPlan
    text: str
    cancelled: bool = False
    candidates: tuple[str, ...] = ()
    scores: tuple[float, ...] = ()  # of the candidates the guards let through, in order
    refusals: tuple[str | None, ...] = ()  # per candidate: why the guards refused it (None: accepted)


def task_of(intent: Intent) -> str:
    """The text_lora task for an intent's args: the intent engine says ``translate`` plus ``lang``."""
    task = intent.args.get("task", "")
    if task == "translate":
        lang = intent.args.get("lang", "")
        if lang not in ("en", "ru"):
            raise RewriteError(f"translate needs a target language (en or ru), not {lang!r}")
        return f"translate_{lang}"
    return task


def rewrite_target(command: EditPlan, document: DocumentSnapshot) -> tuple[int, int]:
    """The [start, end) a rewrite command applies to, checked against the document."""
    if command.span is None:
        raise RewriteError("the rewrite command names no range of the text")
    start, end = command.span
    if not 0 <= start <= end <= len(document.text):
        raise RewriteError(f"rewrite range [{start}, {end}) is outside the document ({len(document.text)} code points)")
    return start, end


def plan_rewrite(command: EditPlan, document: DocumentSnapshot, new_text: str, undo_group: str) -> EditPlan:
    """One edit replacing the command's [start, end) (inserting at start for "continue"), selecting the new text."""
    start, end = rewrite_target(command, document)
    intent = command.intent
    task = get_task(task_of(intent))
    if task.replaces and document.text[start:end] == new_text:
        return EditPlan(intent, message="The rewrite changed nothing.")
    edit = TextEdit(start, end, new_text)
    after = Selection.span(start, start + len(new_text)) if task.replaces else Selection.cursor(start + len(new_text))
    return EditPlan(intent, (edit,), after, description=f"rewrite: {task.name.replace('_', ' ')}", undo_group=undo_group)


class RewriteRunner:
    """Runs rewrite intents on a :class:`ModelWorker` holding a ComposedModel (or any LanguageModel)."""

    def __init__(self, worker: ModelWorker, *, options: RewriteOptions = RewriteOptions(),
                 scorer: Callable[[str, str], float] | None = None) -> None:
        if options.best_of > 1 and scorer is None:
            raise ValueError("best-of-n needs a scorer")
        self.worker = worker
        self.options = options
        self.scorer = scorer
        self._groups = itertools.count(1)
        self._current: StreamHandle | None = None
        self._cancel = threading.Event()

    def cancel(self) -> bool:
        """Stop the rewrite in progress (a new utterance, or "stop"); True when one was running."""
        handle = self._current
        self._cancel.set()
        if handle is not None:
            handle.cancel()
            return True
        return False

    @property
    def running(self) -> bool:
        return self._current is not None

    async def run(self, command: EditPlan, document: DocumentSnapshot,
                  on_partial: Callable[[str], None] | None = None) -> RewriteOutcome:
        """Rewrite what ``command`` (the intent engine's plan) names in ``document``; returns the plan (one
        edit, one undo group: the command's, so the engine's history records the rewrite as one undo step;
        a fresh ``rewrite-N`` when it has none).
        """
        intent = command.intent
        if intent.kind is not IntentKind.COMMAND or intent.name != REWRITE_COMMAND:
            raise RewriteError(f"not a rewrite command: {intent.name or intent.kind.value}")
        try:
            task = get_task(task_of(intent))
        except UnknownTaskError as exc:
            raise RewriteError(str(exc)) from None
        start, end = rewrite_target(command, document)
        source = document.text[start:end]
        if task.replaces and not source.strip():
            return RewriteOutcome(EditPlan(intent, message="There is nothing to rewrite.", nothing_to_act_on=True), "")
        request = RewriteRequest(task.name, source, context_before=document.text[:start])
        self._cancel = threading.Event()
        candidates: list[str] = []
        for n in range(self.options.best_of):
            options = self.options if self.options.seed is None else RewriteOptions(
                best_of=1, min_p=self.options.min_p, temperature=self.options.temperature,
                max_new_tokens=self.options.max_new_tokens, seed=self.options.seed + n)
            text, cancelled = await self._stream_one(request, options, on_partial if n == 0 else None)
            if cancelled:
                return RewriteOutcome(EditPlan(intent, message="Rewrite cancelled."), "", cancelled=True,
                                      candidates=tuple(candidates))
            candidates.append(clean_output(task, text))
        guard_source = source if task.replaces else document.text[:start]
        refusals = tuple(check_rewrite(task, guard_source, c) for c in candidates)
        usable = [c for c, refused in zip(candidates, refusals) if refused is None]
        if not usable:
            log.info("rewrite refused (%s): %r", refusals[0], candidates[0][:200])
            return RewriteOutcome(EditPlan(intent, message=f"The rewrite was refused: {refusals[0]}. Your text is "
                                                           f"unchanged."), "", candidates=tuple(candidates),
                                  refusals=refusals)
        scores: tuple[float, ...] = ()
        best = 0
        if len(usable) > 1 and self.scorer is not None:  # two or more come only from best_of > 1, which has a scorer
            best, scores = pick_best(source, usable, self.scorer)
        text = usable[best]
        plan = plan_rewrite(command, document, text, command.undo_group or f"rewrite-{next(self._groups)}")
        return RewriteOutcome(plan, text, candidates=tuple(candidates), scores=scores, refusals=refusals)

    async def _stream_one(self, request: RewriteRequest, options: RewriteOptions,
                          on_partial: Callable[[str], None] | None) -> tuple[str, bool]:
        if self._cancel.is_set():
            return "", True
        handle = self.worker.stream(lambda lm, cancel: stream_rewrite(lm, request, options, cancel))
        self._current = handle
        if self._cancel.is_set():
            handle.cancel()
        pieces: list[str] = []
        try:
            while True:
                piece = await asyncio.to_thread(handle.next_item)
                if piece is StreamHandle.END:
                    break
                pieces.append(piece)
                if on_partial is not None:
                    on_partial("".join(pieces))
        finally:
            self._current = None
        return "".join(pieces), handle.cancelled


@dataclass(frozen=True)
class PendingProposal:
    """A previewed rewrite: shown to the editor, applied only when accepted."""

    proposal_id: int
    document_id: str
    base_version: int
    edits: tuple[TextEdit, ...]
    description: str
    plan: EditPlan = field(compare=False)


class ProposalError(ValueError):
    """An accept/reject that names no pending proposal, or one the document's changes made void."""


class ProposalBook:
    """Pending proposals per document, carried through the user's edits until accepted or rejected."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._pending: dict[int, PendingProposal] = {}

    def offer(self, document: DocumentSnapshot, plan: EditPlan) -> PendingProposal:
        """Hold ``plan`` (planned against ``document``) as a proposal instead of applying it."""
        proposal = PendingProposal(next(self._ids), document.document_id, document.version, plan.edits,
                                   plan.description, plan)
        self._pending[proposal.proposal_id] = proposal
        return proposal

    def pending(self, document_id: str | None = None) -> tuple[PendingProposal, ...]:
        return tuple(p for p in self._pending.values() if document_id is None or p.document_id == document_id)

    def _take(self, document_id: str, proposal_id: int | None) -> PendingProposal:
        if proposal_id is None:
            candidates = self.pending(document_id)
            if not candidates:
                raise ProposalError("there is no proposal to decide on")
            proposal_id = candidates[-1].proposal_id  # by voice: the latest one
        proposal = self._pending.pop(proposal_id, None)
        if proposal is None or proposal.document_id != document_id:
            raise ProposalError(f"there is no pending proposal {proposal_id} for this document")
        return proposal

    def accept(self, document: DocumentSnapshot, proposal_id: int | None = None) -> EditPlan:
        """The plan to apply now (its edits already carried to ``document``'s version)."""
        proposal = self._take(document.document_id, proposal_id)
        if proposal.base_version != document.version:
            self._pending[proposal.proposal_id] = proposal
            raise ProposalError(f"proposal {proposal.proposal_id} is for version {proposal.base_version}; the document "
                                f"is at {document.version} and its changes were not reported")
        validate_edits(len(document.text), proposal.edits)
        plan = proposal.plan
        return EditPlan(plan.intent, proposal.edits, plan.selection_after, plan.description, plan.message, plan.modes,
                        plan.undo_group)

    def reject(self, document_id: str, proposal_id: int | None = None) -> PendingProposal:
        return self._take(document_id, proposal_id)

    def document_changed(self, document_id: str, edits: Sequence[TextEdit], new_version: int) -> tuple[int, ...]:
        """Carry the document's proposals through ``edits``; drop (and return the ids of) those the edits touched."""
        ordered = sorted(edits, key=lambda e: (e.start, e.end))
        dropped = []
        for proposal in self.pending(document_id):
            moved = []
            for own in proposal.edits:
                if any(e.start < own.end and own.start < e.end or (e.start == e.end and own.start < e.start < own.end)
                       for e in ordered):
                    dropped.append(proposal.proposal_id)
                    break
                moved.append(TextEdit(map_offset(own.start, ordered), map_offset(own.end, ordered), own.text))
            else:
                plan = proposal.plan
                selection = None
                if plan.selection_after is not None and moved:
                    shift = moved[0].start - proposal.edits[0].start
                    selection = Selection(plan.selection_after.anchor + shift, plan.selection_after.active + shift)
                new_plan = EditPlan(plan.intent, tuple(moved), selection, plan.description, plan.message, plan.modes,
                                    plan.undo_group)
                self._pending[proposal.proposal_id] = PendingProposal(proposal.proposal_id, document_id, new_version,
                                                                      tuple(moved), proposal.description, new_plan)
        for proposal_id in dropped:
            self._pending.pop(proposal_id, None)
        return tuple(dropped)

    def document_closed(self, document_id: str) -> None:
        for proposal in self.pending(document_id):
            self._pending.pop(proposal.proposal_id, None)


ACCEPT_WORDS = frozenset({"accept", "accept it", "accept that", "apply it", "прими", "принять", "применить", "применяй"})
REJECT_WORDS = frozenset({"reject", "reject it", "reject that", "discard it", "отклони", "отклонить", "отмени предложение"})


def spoken_decision(text: str) -> bool | None:
    """True for "accept", False for "reject" (English or Russian), None for anything else."""
    words = " ".join(text.lower().strip(" .!?,").split())
    if words in ACCEPT_WORDS:
        return True
    if words in REJECT_WORDS:
        return False
    return None


class RewriteExecutor:
    """What the daemon core calls: runs rewrite plans, offers proposals, decides them, follows documents.

    ``proposals``: offer a preview to editors with the "proposals" capability (False: always apply).
    """

    def __init__(self, runner: RewriteRunner, *, proposals: bool = True, open_commands: bool = True,
                 model_name: str = "the language model", load_at_start: bool = False) -> None:
        self.runner = runner
        self.proposals = proposals
        self.open_commands = open_commands
        self.model_name = model_name
        self.load_at_start = load_at_start
        self.book = ProposalBook()
        self.last_classification: Classification | None = None
        self._last: tuple[str, str, str] | None = None  # (task, source, result): re-plans after STALE reuse it

    def component(self) -> Component:
        """The language model's status line: not loaded yet, loading (how far), loaded, or failed (and why)."""
        status = self.runner.worker.status()
        name = self.model_name
        if status.state is WorkerState.NOT_LOADED:
            return Component(LM_COMPONENT, "not-loaded", f"{name}: not loaded yet (loads on the first rewrite)")
        if status.state is WorkerState.LOADING:
            return Component(LM_COMPONENT, "loading", f"{name}: loading, {status.fraction:.0%}: {status.message}")
        if status.state is WorkerState.READY:
            return Component(LM_COMPONENT, "ready", f"{name} is loaded")
        if status.state is WorkerState.FAILED:
            return Component(LM_COMPONENT, "error", f"{name} failed to load: {status.message}")
        return Component(LM_COMPONENT, "stopped", f"{name}: the model worker has stopped")

    def attach(self, report: Callable[[Component], None]) -> None:
        """Give :meth:`component` to ``report`` (the daemon's status: ``DaemonCore.set_component``) now and at
        every change; start loading when ``load_at_start``. Call on the event loop (the daemon does, once it
        serves)."""
        loop = asyncio.get_running_loop()
        worker = self.runner.worker
        report(self.component())

        def status_changed(status: WorkerStatus) -> None:  # on the worker's thread
            loop.call_soon_threadsafe(report, self.component())

        worker.on_status = status_changed
        if self.load_at_start:
            # A failed load is reported by the status line (and the next rewrite tries again).
            worker.load().add_done_callback(lambda future: future.exception())

    async def classify(self, text: str) -> CommandOutput | None:
        """The command the model hears in an utterance the grammar took for dictation, or None.

        Only for utterances that :func:`looks_like_command` and only once the model is loaded, so normal
        dictation never waits for the model; the call runs on the model worker thread.
        """
        if not self.open_commands or not looks_like_command(text):
            return None
        worker = self.runner.worker
        if worker.status().state is not WorkerState.READY:
            return None
        classification = await asyncio.wrap_future(worker.submit(lambda lm: classify_utterance(lm, text)))
        self.last_classification = classification
        output = classification.output
        return output if isinstance(output, CommandOutput) else None

    @staticmethod
    def handles(plan: EditPlan) -> bool:
        intent = plan.intent
        return intent.kind is IntentKind.COMMAND and intent.name == REWRITE_COMMAND and not plan.edits \
            and plan.span is not None

    def cancel(self) -> bool:
        return self.runner.cancel()

    async def execute(self, plan: EditPlan, document: DocumentSnapshot, editor: EditorChannel | None = None) -> EditPlan:
        """The plan with the rewrite's edit; or, for an ``editor`` that shows proposals, no edit and a Proposal
        shown there."""
        intent = plan.intent
        try:
            start, end = rewrite_target(plan, document)
            task = task_of(intent)
            source = document.text[start:end]
            if self._last is not None and self._last[:2] == (task, source):
                edited = plan_rewrite(plan, document, self._last[2], plan.undo_group)
            else:
                outcome = await self.runner.run(plan, document, _progress_to(editor) if editor else None)
                if not outcome.plan.edits:
                    return EditPlan(intent, message=outcome.plan.message, description=plan.description,
                                    nothing_to_act_on=outcome.plan.nothing_to_act_on)
                self._last = (task, source, outcome.text)
                edited = outcome.plan
        except RewriteError as exc:
            return EditPlan(intent, message=f"The rewrite failed: {exc}.", description=plan.description)
        except Exception as exc:  # the model failed to load or to run: the text stays as it was
            log.exception("rewrite failed")
            return EditPlan(intent, message=f"The rewrite failed: {exc}", description=plan.description)
        if self.proposals and editor is not None and editor.shows_proposals:
            proposal = self.book.offer(document, edited)
            editor.propose(Proposal(proposal.proposal_id, proposal.document_id, proposal.base_version, proposal.edits,
                                  proposal.description))
            return EditPlan(intent, message="Proposed a rewrite: say “accept” or “reject”.", description=plan.description)
        return edited

    def open_proposals(self, document_id: str | None = None) -> tuple[tuple[int, str], ...]:
        """(proposal id, document id) of each pending proposal (of ``document_id``, when given)."""
        return tuple((p.proposal_id, p.document_id) for p in self.book.pending(document_id))

    def decision_for(self, text: str, document_id: str) -> bool | None:
        """Whether an utterance decides a pending proposal of ``document_id`` (and how)."""
        if not self.book.pending(document_id):
            return None
        return spoken_decision(text)

    def decide(self, document: DocumentSnapshot, accept: bool, proposal_id: int | None = None) -> EditPlan:
        intent = Intent(IntentKind.COMMAND, "accept" if accept else "reject", text="accept" if accept else "reject",
                        source="proposal")
        try:
            if accept:
                plan = self.book.accept(document, proposal_id)
                return EditPlan(intent, plan.edits, plan.selection_after, plan.description, "", None, plan.undo_group)
            self.book.reject(document.document_id, proposal_id)
        except (ProposalError, ValueError) as exc:
            return EditPlan(intent, message=str(exc).capitalize() + ".", nothing_to_act_on=True)
        return EditPlan(intent, message="Rejected the proposal.")

    def document_changed(self, document_id: str, edits: Sequence[TextEdit], new_version: int) -> None:
        self.book.document_changed(document_id, edits, new_version)

    def document_closed(self, document_id: str) -> None:
        self.book.document_closed(document_id)


def _progress_to(editor: EditorChannel) -> Callable[[str], None]:
    """Partial rewrite text as notices (code "rewrite-progress") to the editor, at most every
    :data:`PROGRESS_INTERVAL_S` (the editor's queue is bounded)."""
    last = [0.0]

    def send(text: str) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_INTERVAL_S:
            last[0] = now
            editor.notice(PROGRESS_CODE, text)

    return send


# Best-of-n without embeddings (alignment and continuity need the sentence-embedding model, which a rewrite
# should not load): the composite's other parts, renormalized.
CORPUS_WEIGHTS = dict(alignment=0.0, ngram_match=0.15 / 0.7, ttr=0.10 / 0.7, mtld=0.10 / 0.7, sentence_lengths=0.10 / 0.7,
                      generic=0.10 / 0.7, novelty=0.10 / 0.7, compression=0.05 / 0.7, continuity=0.0)
# Without an indexed corpus: fewer stock phrases, and the source's own lexical variety.
GENERIC_WEIGHTS = dict(alignment=0.0, ngram_match=0.0, ttr=0.25, mtld=0.25, sentence_lengths=0.0, generic=0.5,
                       novelty=0.0, compression=0.0, continuity=0.0)


def style_scorer(profile=None) -> Callable[[str, str], float]:
    """The best-of-n scorer: the persona composite (:func:`pushkin.persona.metrics.score_style`).

    With ``profile`` (a StyleProfile of the user's indexed corpus): n-gram match, TTR, MTLD, sentence
    lengths, generic phrases, novelty against the source and compression, against that profile
    (:data:`CORPUS_WEIGHTS`). Without one: the generic-phrase penalty (half) and TTR/MTLD consistency with
    the source text itself (:data:`GENERIC_WEIGHTS`).
    """
    from pushkin.persona.metrics import StyleProfile, StyleWeights, score_style

    weights = StyleWeights(**(CORPUS_WEIGHTS if profile is not None else GENERIC_WEIGHTS))

    def score(source: str, candidate: str) -> float:
        if not candidate.strip():
            return 0.0
        against = profile if profile is not None else StyleProfile.from_texts([source])
        return score_style(candidate, against, reference=source if profile is not None else "",
                           weights=weights).composite

    return score


def load_style_profile(store_path) -> object | None:
    """A StyleProfile of the user's indexed corpus (``pushkin persona index``), or None when there is none."""
    from pathlib import Path

    path = Path(store_path).expanduser()
    if not path.is_file():
        return None
    from pushkin.persona.metrics import StyleProfile
    from pushkin.persona.store import PersonaStore

    try:
        with PersonaStore(path) as store:
            if store.paragraph_count() == 0:
                return None
            return StyleProfile.from_texts(store.iter_texts())
    except Exception:  # a broken store must not stop the daemon; best-of-n falls back to the generic parts
        log.warning("could not read the persona store %s; best-of-n scores without it", path, exc_info=True)
        return None


def build_rewriter(settings, scorer: Callable[[str, str], float] | None = None, *, progress=None,
                   style_profile=None, persona=None) -> RewriteExecutor:
    """A RewriteExecutor over a ModelWorker that loads ``settings`` (a ModelSettings) on the first rewrite.

    With ``best_of`` > 1 and no ``scorer``, candidates are scored by :func:`style_scorer` (``style_profile``:
    the user's corpus, when indexed). ``persona``: a :class:`pushkin.daemon.persona.PersonaService` giving
    the PersonaPlug soft prompt its persona vectors (None: no soft prompt).
    """
    from pushkin.model.composed import ComposedModel
    from pushkin.model.loading import LoadOptions, ModelLoadError, ModelNotFoundError, check_model_source, load_base
    from pushkin.model.registry import AdapterRegistry

    try:  # at start, not at the first rewrite: a wrong path or a broken .gguf stops the daemon with the reason
        check_model_source(settings.model)
    except (ModelNotFoundError, ModelLoadError) as exc:
        raise RewriteError(f"[model] model: {exc}") from None

    if settings.best_of > 1 and scorer is None:
        scorer = style_scorer(style_profile)

    def load(report):
        options = LoadOptions(model=settings.model, device=settings.device, dtype=settings.dtype,
                              quantization=settings.quantization or None)
        loaded = load_base(options, progress=lambda p: report(p.fraction, p.message))
        composed = ComposedModel(loaded, AdapterRegistry(settings.adapters or None),
                                 persona=settings.persona or None, merge=settings.merge, persona_source=persona)
        if persona is not None:
            persona.note_model(composed.persona_prompt_status.message)
        return composed

    options = RewriteOptions(best_of=settings.best_of,
                             min_p=settings.min_p if settings.min_p >= 0 else None,
                             temperature=settings.temperature if settings.temperature >= 0 else None)
    worker = ModelWorker(load, name="pushkin-model")
    return RewriteExecutor(RewriteRunner(worker, options=options, scorer=scorer), proposals=settings.proposals,
                           open_commands=settings.open_commands, model_name=settings.model,
                           load_at_start=settings.load_at_start)

"""The intent engine: an EditPlanner that tells commands from dictation and plans their edits.

``plan`` reads the grammar, the document snapshot and the per-document history, and returns an EditPlan;
it changes nothing the daemon could be left with if the plan is never applied (on STALE it is asked
again): what a plan will do to the history is parked under its ``undo_group`` and only happens in
``applied``. ``document_changed`` carries every remembered range through the user's own edits.

Language-model commands come back as intent ``rewrite`` with no edits and these args (all strings):

* ``task``: rephrase | formal | casual | shorten | expand | fix_grammar | list | summarize | translate |
  continue;
* ``target``: selection | last_phrase | cursor (``continue`` writes at the cursor);
* ``start``, ``end``: the target range in code points of the snapshot the plan was made for;
* ``lang``: for translate, the language to translate into ("en" or "ru");
* ``utterance_language``: the language the command was said in ("en", "ru").

Whoever executes it replaces [start, end) of that snapshot (or inserts at ``start`` for continue) and
sends the result as its own batch, so the editor's undo takes it back.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from pushkin.daemon.planning import DocumentSnapshot, EditPlan, Modes, Utterance
from pushkin.proto.textedit import EditError, validate_edits
from pushkin.proto.types import Intent, IntentKind, IntentMode, ListenState, Selection, TextEdit

from . import textspans
from .cleanup import clean_dictation
from .formatting import FormattedInsertion, continue_phrase, format_dictation, spoken_mark
from .grammar import BUILTIN_RULES, CommandMatch, Grammar, strip_leading_fillers
from .history import DocumentHistory, Phrase, PhraseLink, PhraseState, TrackedEdit, UndoStep, new_ranges
from .settings import IntentSettings

_REWRITE_INSTRUCTIONS = {
    "rephrase": "Rephrase the text, keeping its meaning.", "formal": "Make the text more formal.",
    "casual": "Make the text more casual.", "shorten": "Shorten the text.", "expand": "Expand the text.",
    "fix_grammar": "Fix the grammar and spelling.", "list": "Turn the text into a bulleted list.",
    "summarize": "Summarize the text.", "translate": "Translate the text.", "continue": "Continue the text.",
}

_MARKS = ".,!?;:…"  # the marks a recognizer ends a phrase with, which a spoken mark replaces
_SENTENCE_WORDS = 6
_MAX_REPLACEMENTS = 500  # "replace every X" edits at most this many occurrences  # a failed "replace X with Y" this long was a sentence that began with "replace"
_MODE_COMMANDS = {"sleep", "wake", "dictation_mode", "command_mode"}
_NO_TARGET = {"en": "“{what}” needs a target: select some text or dictate first.",
              "ru": "«{what}»: не к чему применить — выделите текст или продиктуйте что-нибудь."}


def _language(utterance: Utterance) -> str:
    if utterance.language in ("en", "ru"):
        return utterance.language
    return "ru" if re.search(r"[А-Яа-яЁё]", utterance.text) else "en"


def _say(language: str, english: str, russian: str) -> str:
    return russian if language == "ru" else english


@dataclass
class _PendingAction:
    """What an unapplied plan's own edits will do to the history once the editor applies them."""

    description: str = ""
    new_phrase_edit: int | None = None  # index of the edit whose text becomes a dictated phrase
    links: list[PhraseLink] = field(default_factory=list)  # phrases the edits take out or bring back


@dataclass(frozen=True)
class _PendingReplay:
    """An unapplied undo or redo of ``step``, or (``drop_undo``, ``drop_redo``) the refusal that drops it."""

    kind: str  # "undo", "redo", "drop_undo", "drop_redo"
    step: UndoStep


_Pending = _PendingAction | _PendingReplay


@dataclass(frozen=True)
class _Context:
    utterance: Utterance
    document: DocumentSnapshot
    history: DocumentHistory
    language: str
    intent: Intent


class IntentEngine:
    """The EditPlanner the daemon uses: grammar commands, formatted dictation, "that", undo/redo."""

    def __init__(self, settings: IntentSettings | None = None):
        self.settings = settings or IntentSettings()
        self.grammar = Grammar(list(self.settings.phrases) + list(BUILTIN_RULES))
        self._documents: dict[str, DocumentHistory] = {}
        self._pending: dict[str, _Pending] = {}
        self._groups = itertools.count(1)
        self._commands: dict[str, Callable[[_Context, Mapping[str, str]], EditPlan]] = {
            "undo": self._undo, "redo": self._redo, "scratch_that": self._scratch_that,
            "delete_that": self._delete_that, "replace": self._replace, "delete_text": self._delete_text,
            "select_that": self._select_that, "select_all": self._select_all, "select_text": self._select_text,
            "select_words": self._select_words, "select_unit": self._select_unit, "unselect": self._unselect,
            "delete_words": self._delete_words, "delete_unit": self._delete_unit, "backspace": self._backspace,
            "go_to": self._go_to, "go_to_unit": self._go_to_unit, "move_words": self._move_words,
            "insert_at": self._insert_at, "format_that": self._format_that, "new_line": self._structure,
            "new_paragraph": self._structure, "punctuation": self._structure, "literal": self._literal,
            "rewrite": self._rewrite, "dictate": self._dictate_command, "stop": self._stop,
            "read_that": self._read_that, "add_vocabulary": self._add_vocabulary, "pin_language": self._pin_language,
            "replace_all": self._replace_all,
        }

    # ---- EditPlanner ------------------------------------------------------------------------------

    def plan(self, utterance: Utterance, document: DocumentSnapshot | None, modes: Modes) -> EditPlan:
        language = _language(utterance)
        spoken = utterance.text.strip()
        # A command said after a hesitation ("Um, scratch that.") is still the command; what remains of an
        # utterance that was only hesitation is nothing to insert.
        unhesitant = strip_leading_fillers(spoken)
        # A command the front end decided with its arguments is planned as it is, its words not read again.
        decided = utterance.command
        match = CommandMatch(decided.name, dict(decided.args)) if decided is not None else self.classify(unhesitant)
        if modes.listen_state is ListenState.SLEEPING:
            if match is not None and match.command == "wake":
                return self._mode_plan(match, spoken, Modes(ListenState.LISTENING, modes.intent_mode), language)
            return EditPlan(Intent(IntentKind.IGNORED, text=spoken), message=_say(language, "Sleeping: say “wake up”.", "Сплю: скажите «проснись»."))
        if not spoken:
            return EditPlan(Intent(IntentKind.IGNORED, text=spoken), message=_say(language, "Nothing was said.", "Ничего не сказано."))
        if not unhesitant:
            return EditPlan(Intent(IntentKind.IGNORED, text=spoken),
                            message=_say(language, f"Only a hesitation (“{spoken}”): nothing inserted.",
                                         f"Только заминка («{spoken}»): ничего не вставлено."))
        if match is not None and match.command in _MODE_COMMANDS:
            return self._mode_plan(match, unhesitant, self._modes_after(match.command, modes), language)
        if match is None and modes.intent_mode is IntentMode.COMMAND_ONLY:
            return EditPlan(Intent(IntentKind.IGNORED, text=spoken),
                            message=_say(language, "Command mode: that is not a command (say “dictation mode” to dictate).",
                                         "Режим команд: это не команда (скажите «режим диктовки»)."))
        if match is None:
            match = CommandMatch("dictate", {"text": utterance.text})
            intent = Intent(IntentKind.DICTATION, text=spoken, source="grammar")
        else:
            intent = Intent(IntentKind.COMMAND, name=match.command, args=dict(match.args), text=unhesitant,
                            source="literal" if match.command == "literal" else "grammar")
        if document is None:
            return EditPlan(intent, message=_say(language, "No document is focused.", "Нет открытого документа."))
        history = self._documents.get(document.document_id) or DocumentHistory(self.settings.history_limit)
        context = _Context(utterance, document, history, language, intent)
        return self._commands[match.command](context, match.args)

    def applied(self, document: DocumentSnapshot, plan: EditPlan, new_version: int) -> None:
        history = self._history(document.document_id)
        pending = self._pending.pop(plan.undo_group, None) if plan.undo_group else None
        edits = validate_edits(len(document.text), plan.edits)
        if isinstance(pending, _PendingReplay):
            if pending.kind in ("undo", "drop_undo") and pending.step in history.undo:
                history.undo.remove(pending.step)
            if pending.kind in ("redo", "drop_redo") and pending.step in history.redo:
                history.redo.remove(pending.step)
        covered = history.carry(edits, by_user=False)
        if edits and pending is not None and not (isinstance(pending, _PendingReplay) and pending.kind.startswith("drop_")):
            replaced = [document.text[e.start:e.end] for e in edits]
            ranges = new_ranges(edits)
            texts = [e.text for e in edits]
            if isinstance(pending, _PendingAction):
                links = list(pending.links)
                if pending.new_phrase_edit is not None:
                    start, end = ranges[pending.new_phrase_edit]
                    phrase = history.add_phrase(start, end, texts[pending.new_phrase_edit], replaced[pending.new_phrase_edit])
                    links.append((phrase.phrase_id, pending.new_phrase_edit, PhraseState.PRESENT))
                history.relink(links, ranges, texts)
                inverse_links = [(pid, index, PhraseState.REMOVED if state is PhraseState.PRESENT else PhraseState.PRESENT)
                                 for pid, index, state in links]
                history.push_undo(_step(plan.undo_group, pending.description, edits, replaced, inverse_links, links, covered))
                history.redo.clear()
            else:
                step = pending.step
                for tracked, (start, _) in zip(step.edits, ranges):
                    history.restore(tracked.dependents, start)
                history.relink(step.links, ranges, texts)
                inverse = _step(step.group, step.description, edits, replaced, step.inverse_links, step.links, covered)
                (history.push_redo if pending.kind == "undo" else history.push_undo)(inverse)
        history.version = new_version

    def document_changed(self, document_id: str, old_text: str, edits: Sequence[TextEdit], new_version: int) -> None:
        history = self._history(document_id)
        history.carry(validate_edits(len(old_text), edits), by_user=True)
        history.version = new_version

    def document_closed(self, document_id: str) -> None:
        self._documents.pop(document_id, None)

    # ---- helpers for callers ------------------------------------------------------------------------

    def classify(self, spoken: str) -> CommandMatch | None:
        """The command a whole utterance names, or None for dictation."""
        mark = spoken_mark(spoken)
        if mark is not None:
            name = {"\n": "new_line", "\n\n": "new_paragraph"}.get(mark.text, "punctuation")
            return CommandMatch(name, {"mark": mark.text} if name == "punctuation" else {})
        return self.grammar.match(spoken)

    def history(self, document_id: str) -> DocumentHistory | None:
        return self._documents.get(document_id)

    def _history(self, document_id: str) -> DocumentHistory:
        history = self._documents.get(document_id)
        if history is None:
            history = self._documents[document_id] = DocumentHistory(self.settings.history_limit)
        return history

    def _group(self, pending: _Pending | None) -> str:
        group = f"voice-{next(self._groups)}"
        if pending is not None:
            self._pending[group] = pending
            # Plans that were never applied (STALE, no editor) leave their entry behind: keep the last few.
            while len(self._pending) > 64:
                del self._pending[next(iter(self._pending))]
        return group

    def _plan(self, context: _Context, edits: Sequence[TextEdit] = (), selection: Selection | None = None,
              description: str = "", message: str = "", pending: _Pending | None = None,
              args: Mapping[str, str] | None = None, span: tuple[int, int] | None = None) -> EditPlan:
        intent = context.intent
        if args:
            intent = Intent(intent.kind, intent.name, {**intent.args, **args}, intent.text, intent.source)
        if isinstance(pending, _PendingAction) and not pending.description:
            pending.description = description
        return EditPlan(intent, tuple(edits), selection, description or intent.name, message, None, self._group(pending),
                        span)

    def _message(self, context: _Context, english: str, russian: str) -> EditPlan:
        """A refusal, said in the utterance's language."""
        return self._refusal(context, _say(context.language, english, russian))

    def _refusal(self, context: _Context, message: str) -> EditPlan:
        """The plan for a command with nothing to act on: no edit, ``message`` says why."""
        return replace(self._plan(context, message=message), nothing_to_act_on=True)

    def _mode_plan(self, match: CommandMatch, spoken: str, modes: Modes, language: str) -> EditPlan:
        intent = Intent(IntentKind.COMMAND, name=match.command, args=dict(match.args), text=spoken)
        messages = {
            "sleep": ("Sleeping: say “wake up” to resume.", "Сплю: скажите «проснись»."),
            "wake": ("Listening.", "Слушаю."),
            "dictation_mode": ("Dictation mode.", "Режим диктовки."),
            "command_mode": ("Command mode: only commands are acted on.", "Режим команд: выполняются только команды."),
        }
        english, russian = messages[match.command]
        return EditPlan(intent, description=match.command, message=_say(language, english, russian), modes=modes,
                        undo_group=self._group(None))

    @staticmethod
    def _modes_after(command: str, modes: Modes) -> Modes:
        if command == "sleep":
            return Modes(ListenState.SLEEPING, modes.intent_mode)
        if command == "wake":
            return Modes(ListenState.LISTENING, modes.intent_mode)
        return Modes(modes.listen_state, IntentMode.COMMAND_ONLY if command == "command_mode" else IntentMode.DICTATION)

    # ---- dictation --------------------------------------------------------------------------------

    def _insert(self, context: _Context, spoken: str, *, literal: bool, description: str, clean: bool = False) -> EditPlan:
        document = context.document
        selection = document.selection
        if clean:
            spoken = clean_dictation(spoken, fillers=self.settings.drop_fillers,
                                     corrections=self.settings.resolve_corrections,
                                     addresses=self.settings.write_addresses, numbers=self.settings.write_numbers)
        formatted = format_dictation(document.text, selection.start, selection.end, spoken, literal=literal,
                                     speech=context.utterance.source.startswith("speech"),
                                     lowercase_mid_sentence=self.settings.lowercase_mid_sentence)
        if not formatted.text and formatted.start == formatted.end:
            return self._message(context, "Nothing to insert.", "Нечего вставлять.")
        if not literal:
            formatted = self._replace_recognizer_mark(context, formatted)
            if not formatted.text and formatted.start == formatted.end:
                return self._message(context, "That mark is already there.", "Этот знак уже стоит.")
            formatted = self._continue_last_phrase(context, formatted, spoken)
        trailing = len(formatted.text) - len(formatted.text.rstrip(" "))
        cursor = formatted.start + len(formatted.text) - trailing
        intent = context.intent
        if intent.kind is IntentKind.DICTATION:
            context = _Context(context.utterance, document, context.history, context.language,
                               Intent(IntentKind.DICTATION, text=formatted.text, source=intent.source))
        pending = _PendingAction(new_phrase_edit=0 if formatted.text.strip() else None)
        return self._plan(context, [TextEdit(formatted.start, formatted.end, formatted.text)], Selection.cursor(cursor),
                          description, pending=pending)

    def _continue_last_phrase(self, context: _Context, formatted: FormattedInsertion, spoken: str) -> FormattedInsertion:
        """Speech right after the last dictated phrase (the VAD cut a sentence at a pause, or a new one began):
        joined to that phrase's sentence without Whisper's period and capital, or begun with a period."""
        if not context.utterance.source.startswith("speech") or not self.settings.lowercase_mid_sentence:
            return formatted
        if not formatted.text.lstrip()[:1].isalnum():
            return formatted
        phrase = context.history.last_phrase()
        if phrase is None or phrase.typed_inside or not phrase.is_present_in(context.document.text):
            return formatted
        core_start, core_end = phrase.core()
        return continue_phrase(context.document.text, core_start, core_end, formatted, spoken,
                               context.utterance.pause_before_s)

    def _replace_recognizer_mark(self, context: _Context, formatted: FormattedInsertion) -> FormattedInsertion:
        """A spoken mark put right after the mark the recognizer ended the last phrase with takes its place.

        Whisper ends a segment with "." or "?"; the user who then says "comma" means "update," not "update.,".
        Only a mark inside the last dictated phrase is replaced, never one the user typed.
        """
        mark = formatted.text[:1]
        if mark not in _MARKS or formatted.start != formatted.end:
            return formatted
        phrase = context.history.last_phrase()
        if phrase is None or phrase.typed_inside or not phrase.is_present_in(context.document.text):
            return formatted
        core_start, core_end = phrase.core()
        if core_end != formatted.start:
            return formatted
        start = core_end
        while start > max(core_start, core_end - 3) and context.document.text[start - 1] in _MARKS:
            start -= 1
        if start == core_end:
            return formatted
        if context.document.text[start:core_end] == mark:  # "slides?" + "question mark": already there
            return FormattedInsertion(core_end, core_end, formatted.text[1:])
        return FormattedInsertion(start, core_end, formatted.text)

    def _dictate_command(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        return self._insert(context, args["text"], literal=False, description="dictation", clean=True)

    def _add_vocabulary(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        """The selection, else the last dictated phrase, as ``words`` for the daemon to add to the
        recognizer's vocabulary (the engine edits nothing)."""
        selection = context.document.selection
        if not selection.is_cursor:
            words = context.document.text[selection.start:selection.end]
        else:
            phrase = self._that_phrase(context)
            if isinstance(phrase, EditPlan):
                return phrase
            start, end = phrase.core()
            words = context.document.text[start:end]
        words = words.strip().strip(".,!?;:…")
        if not words.strip():
            return self._message(context, "There are no words to add.", "Нет слов для добавления.")
        return self._plan(context, description="add to vocabulary", args={"words": words},
                          message=_say(context.language, f"Adding “{words}” to the vocabulary.",
                                       f"Добавляю «{words}» в словарь."))

    def _pin_language(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        """The language the daemon is to hear this document in ("" : detect again); the engine edits nothing."""
        language = args.get("lang", "")
        names = {"en": ("English", "по-английски"), "ru": ("Russian", "по-русски")}
        if language:
            english, russian = names[language]
            return self._plan(context, description="pin language", args={"lang": language},
                              message=_say(context.language, f"Dictating in {english} in this document.",
                                           f"В этом документе диктую {russian}."))
        return self._plan(context, description="unpin language", args={"lang": ""},
                          message=_say(context.language, "Detecting the language again in this document.",
                                       "В этом документе снова определяю язык."))

    def _stop(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        # The daemon has already cancelled a running rewrite when this utterance arrived; nothing to edit.
        return EditPlan(context.intent, message=_say(context.language, "Stopped.", "Остановлено."))

    def _literal(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        return self._insert(context, args["text"], literal=True, description="literal")

    def _structure(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        return self._insert(context, context.intent.text, literal=False, description=context.intent.name)

    # ---- "that" -----------------------------------------------------------------------------------

    def _that_phrase(self, context: _Context) -> Phrase | EditPlan:
        """The last dictated phrase, or a plan that says why there is none."""
        phrase = context.history.last_phrase()
        if phrase is None:
            return self._message(context, "Nothing has been dictated here yet.", "Здесь ещё ничего не продиктовано.")
        if not phrase.is_present_in(context.document.text):
            return self._message(context, "The last dictated phrase is no longer in the document; nothing was changed.",
                                 "Последней продиктованной фразы больше нет в документе; ничего не изменено.")
        return phrase

    def _read_that(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        """No edit: the plan's ``text`` arg is what the daemon's voice reads (the selection, else the last phrase)."""
        document = context.document
        selection = document.selection
        if selection.start != selection.end:
            text = document.text[selection.start:selection.end]
        else:
            phrase = self._that_phrase(context)
            if isinstance(phrase, EditPlan):
                return phrase
            text = document.text[slice(*phrase.core())]
        if not text.strip():
            return self._message(context, "Nothing to read.", "Нечего читать.")
        shown = text.strip()[:60] + ("…" if len(text.strip()) > 60 else "")
        return self._plan(context, description="read that", message=_say(context.language, f"Reading “{shown}”.",
                                                                          f"Читаю «{shown}»."), args={"text": text})

    def _changeable_phrase(self, context: _Context) -> Phrase | EditPlan:
        """The last dictated phrase for a command that removes or changes it, or the plan that refuses."""
        phrase = self._that_phrase(context)
        if isinstance(phrase, Phrase) and phrase.typed_inside:
            return self._typed_inside_refusal(context)
        return phrase

    def _typed_inside_refusal(self, context: _Context) -> EditPlan:
        return self._message(context, "You typed inside the last dictated phrase, and your typing is kept: say “select that”, "
                                      "then the command, to include it. Nothing was changed.",
                             "Внутри последней продиктованной фразы есть ваш набранный текст, он сохранён: скажите "
                             "«выдели это», а затем команду, чтобы включить его. Ничего не изменено.")

    def _scratch_that(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        phrase, broken = context.history.scratchable(context.document.text)
        if phrase is None:
            return self._message(context, "Nothing to scratch.", "Нечего стирать.")
        if phrase.typed_inside:
            return self._typed_inside_refusal(context)
        message = ""
        if broken:
            message = _say(context.language, "The last dictated phrase was edited since; scratched the one before it.",
                           "Последнюю фразу успели изменить; стёрта предыдущая.")
        pending = _PendingAction(links=[(phrase.phrase_id, 0, PhraseState.REMOVED)])
        # Taking the utterance back puts back what it replaced: the selection, the recognizer's mark.
        restored = phrase.replaced
        return self._plan(context, [TextEdit(phrase.start, phrase.end, restored)], Selection.cursor(phrase.start + len(restored)),
                          "scratch that", message, pending, {"start": str(phrase.start), "end": str(phrase.end)})

    def _delete_that(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        selection = context.document.selection
        if not selection.is_cursor:
            return self._delete_range(context, selection.start, selection.end, "delete selection")
        phrase = self._changeable_phrase(context)
        if isinstance(phrase, EditPlan):
            return phrase
        pending = _PendingAction(links=[(phrase.phrase_id, 0, PhraseState.REMOVED)])
        return self._plan(context, [TextEdit(phrase.start, phrase.end, "")], Selection.cursor(phrase.start), "delete that",
                          pending=pending, args={"start": str(phrase.start), "end": str(phrase.end)})

    def _select_that(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        phrase = self._that_phrase(context)
        if isinstance(phrase, EditPlan):
            return phrase
        start, end = phrase.core()
        return self._plan(context, selection=Selection.span(start, end), description="select that",
                          args={"start": str(start), "end": str(end)})

    def _format_that(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        selection = context.document.selection
        keep_selection = not selection.is_cursor
        if keep_selection:
            start, end = selection.start, selection.end
        else:
            phrase = self._changeable_phrase(context)
            if isinstance(phrase, EditPlan):
                return phrase
            start, end = phrase.core()
        original = context.document.text[start:end]
        style = args["style"]
        if style == "upper":
            changed = original.upper()
        elif style == "lower":
            changed = original.lower()
        else:
            changed = textspans.WORD.sub(lambda m: m.group()[0].upper() + m.group()[1:], original)
        after = Selection.span(start, start + len(changed)) if keep_selection else Selection.cursor(start + len(changed))
        if changed == original:
            return self._plan(context, selection=after, description=f"format {style}",
                              message=_say(context.language, "Already formatted that way.", "Уже так оформлено."))
        return self._plan(context, [TextEdit(start, end, changed)], after, f"format {style}", pending=_PendingAction(),
                          args={"start": str(start), "end": str(end)})

    # ---- undo / redo ------------------------------------------------------------------------------

    def _undo(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        return self._replay(context, context.history.undo, "undo")

    def _redo(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        return self._replay(context, context.history.redo, "redo")

    def _replay(self, context: _Context, stack: list[UndoStep], kind: str) -> EditPlan:
        if not stack:
            return self._message(context, f"Nothing to {kind}.", "Нечего отменять." if kind == "undo" else "Нечего возвращать.")
        step = stack[-1]
        text = context.document.text
        edits = [TextEdit(t.start, t.end, t.replacement) for t in step.edits]
        clean = all(t.end <= len(text) and text[t.start:t.end] == t.expected and not t.typed_inside for t in step.edits)
        if clean:
            try:
                validate_edits(len(text), edits)
            except EditError:
                clean = False
        if not clean:
            # Say so, and drop the step once the user has heard it, so the next "undo" reaches the one before.
            return self._plan(context, description=f"{kind} refused", pending=_PendingReplay(f"drop_{kind}", step),
                              message=_say(context.language,
                                           f"Can't {kind} “{step.description}”: that text was edited since. Say “{kind}” again for the step before it.",
                                           f"Не могу {'отменить' if kind == 'undo' else 'вернуть'} «{step.description}»: текст с тех пор изменили. Повторите команду для предыдущего шага."))
        last = max(edits, key=lambda e: e.start)
        shift = sum(e.delta for e in edits if e is not last)
        cursor = last.start + shift + len(last.text)
        return self._plan(context, edits, Selection.cursor(cursor), f"{kind} {step.description}",
                          pending=_PendingReplay(kind, step), args={"group": step.group})

    # ---- document words ---------------------------------------------------------------------------

    def _find(self, context: _Context, phrase: str, *, or_dictate: bool = True) -> tuple[int, int] | EditPlan:
        """Where ``phrase`` is near the cursor, or the plan to return instead.

        As with Dragon's Select-and-Say, "select X" / "delete X" / "insert before X" are commands only when X
        is in the text near the cursor; otherwise the utterance was a sentence ("Select all of them.") and
        is dictated. A short "replace X with Y" is not dictated: the user is told X is not there.
        """
        span = textspans.find_phrase(context.document.text, phrase, context.document.selection.start, self.settings.search_window)
        if span is not None:
            return span
        if or_dictate and context.utterance.command is None:  # a decided command is never taken for a sentence
            return self._dictated(context)
        return self._message(context, f"Couldn't find “{phrase}” near the cursor; nothing was changed.",
                             f"Не нашёл «{phrase}» рядом с курсором; ничего не изменено.")

    def _replace(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        # "Replace the old tires with new ones before winter." is a sentence when the document has no "old
        # tires": dictate it. A short "replace X with Y" is a command even then: the user is told X is absent.
        sentence = context.utterance.command is None and len(context.utterance.text.split()) >= _SENTENCE_WORDS
        span = self._find(context, args["x"], or_dictate=sentence)
        if isinstance(span, EditPlan):
            return span
        start, end = span
        replacement = args["y"]
        found = context.document.text[start:end]
        if found[:1].isupper() and replacement[:1].islower():
            replacement = replacement[0].upper() + replacement[1:]
        return self._plan(context, [TextEdit(start, end, replacement)], Selection.cursor(start + len(replacement)),
                          f"replace {found}", pending=_PendingAction(), args={"start": str(start), "end": str(end)})

    def _dictated(self, context: _Context) -> EditPlan:
        """The utterance typed as dictation after all: its command reading found nothing to act on."""
        dictation = _Context(context.utterance, context.document, context.history, context.language,
                             Intent(IntentKind.DICTATION, text=context.intent.text, source="grammar"))
        return self._insert(dictation, context.utterance.text, literal=False, description="dictation", clean=True)

    def _replace_all(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        """Every whole-word occurrence of x in the paragraph at the cursor (``scope`` paragraph) or the whole
        document becomes y, one edit each, one undo group; a capital that began an occurrence is kept."""
        text = context.document.text
        lo, hi = 0, len(text)
        if args.get("scope", "document") == "paragraph":
            paragraph = textspans.unit_span(text, context.document.selection.start, "paragraph", "this",
                                            self.settings.search_window)
            if paragraph is None:
                return self._message(context, "There is no paragraph at the cursor.", "У курсора нет абзаца.")
            lo, hi = paragraph
        pattern = textspans.phrase_pattern(args["x"])
        found = [] if pattern is None else [m.span() for m in pattern.finditer(text, lo, hi)][:_MAX_REPLACEMENTS]
        if not found:
            # As for "replace X with Y": a sentence ("Replace all the old tires with new ones before winter.")
            # whose X is not in the text was dictation; a short command is told X is absent.
            if context.utterance.command is None and len(context.utterance.text.split()) >= _SENTENCE_WORDS:
                return self._dictated(context)
            return self._message(context, f"Couldn't find “{args['x']}” there; nothing was changed.",
                                 f"Не нашёл «{args['x']}»; ничего не изменено.")
        edits = []
        for start, end in found:
            replacement = args["y"]
            if text[start:start + 1].isupper() and replacement[:1].islower():
                replacement = replacement[0].upper() + replacement[1:]
            edits.append(TextEdit(start, end, replacement))
        return self._plan(context, edits, description=f"replace every {args['x']}", pending=_PendingAction(),
                          args={"start": str(lo), "end": str(hi), "replaced": str(len(edits))},
                          message=_say(context.language, f"Replaced {len(edits)} × “{args['x']}”.",
                                       f"Заменено: {len(edits)} × «{args['x']}»."))

    def _delete_text(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        span = self._find(context, args["x"])
        if isinstance(span, EditPlan):
            return span
        return self._delete_range(context, *span, f"delete {args['x']}")

    def _select_text(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        span = self._find(context, args["x"])
        if isinstance(span, EditPlan):
            return span
        return self._plan(context, selection=Selection.span(*span), description="select",
                          args={"start": str(span[0]), "end": str(span[1])})

    def _insert_at(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        span = self._find(context, args["x"])
        if isinstance(span, EditPlan):
            return span
        offset = span[0] if args["side"] == "before" else span[1]
        return self._plan(context, selection=Selection.cursor(offset), description=f"insert {args['side']}",
                          args={"start": str(offset), "end": str(offset)})

    def _delete_range(self, context: _Context, start: int, end: int, description: str, *, widen: bool = True) -> EditPlan:
        text = context.document.text
        if widen:
            start, end = textspans.widen_for_spaces(text, start, end)
        if start >= end:
            return self._message(context, "Nothing to delete.", "Нечего удалять.")
        return self._plan(context, [TextEdit(start, end, "")], Selection.cursor(start), description,
                          pending=_PendingAction(), args={"start": str(start), "end": str(end)})

    # ---- words, sentences, paragraphs, lines ----------------------------------------------------------

    def _words(self, context: _Context, args: Mapping[str, str]) -> list[tuple[int, int]]:
        text, selection = context.document.text, context.document.selection
        count = int(args.get("count", "1"))
        if args.get("direction") == "forward":
            return textspans.words_after(text, selection.end, count, self.settings.search_window)
        return textspans.words_before(text, selection.start, count, self.settings.search_window)

    def _select_words(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        words = self._words(context, args)
        if not words:
            return self._message(context, "There is no word there.", "Там нет слов.")
        return self._plan(context, selection=Selection.span(words[0][0], words[-1][1]), description="select words",
                          args={"start": str(words[0][0]), "end": str(words[-1][1])})

    def _delete_words(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        words = self._words(context, args)
        if not words:
            return self._message(context, "There is no word there.", "Там нет слов.")
        return self._delete_range(context, words[0][0], words[-1][1], "delete words")

    def _unit(self, context: _Context, args: Mapping[str, str]) -> tuple[int, int] | EditPlan:
        text, selection = context.document.text, context.document.selection
        unit, which = args["unit"], args["which"]
        if unit == "line" and which == "this":
            return textspans.line_bounds(text, selection.start)
        cursor = selection.end if which == "next" else selection.start
        span = textspans.unit_span(text, cursor, unit, which, self.settings.search_window)
        if span is None:
            names = {"sentence": ("sentence", "предложения"), "paragraph": ("paragraph", "абзаца"), "line": ("line", "строки")}
            english, russian = names[unit]
            return self._message(context, f"There is no {which} {english}.", f"Нет такого {russian}.")
        return span

    def _select_unit(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        span = self._unit(context, args)
        if isinstance(span, EditPlan):
            return span
        return self._plan(context, selection=Selection.span(*span), description=f"select {args['unit']}",
                          args={"start": str(span[0]), "end": str(span[1])})

    def _delete_unit(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        span = self._unit(context, args)
        if isinstance(span, EditPlan):
            return span
        start, end = textspans.unit_deletion(context.document.text, span, args["unit"])
        return self._delete_range(context, start, end, f"delete {args['unit']}", widen=False)

    def _backspace(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        text, selection = context.document.text, context.document.selection
        if not selection.is_cursor:
            return self._delete_range(context, selection.start, selection.end, "backspace", widen=False)
        start = selection.start
        for _ in range(int(args.get("count", "1"))):
            if start == 0:
                break
            start -= 1
            # One backspace takes a whole character as people see it: base letter, its combining marks,
            # variation selectors and zero-width-joined emoji.
            while start > 0 and (unicodedata.combining(text[start]) or text[start] in "\u200d\ufe0f\ufe0e" or text[start - 1] == "\u200d"):
                start -= 1
        return self._delete_range(context, start, selection.start, "backspace", widen=False)

    def _go_to(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        offset = 0 if args["where"] == "start" else len(context.document.text)
        return self._plan(context, selection=Selection.cursor(offset), description=f"go to {args['where']}",
                          args={"start": str(offset), "end": str(offset)})

    def _go_to_unit(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        span = self._unit(context, {"unit": args["unit"], "which": "this"})
        if isinstance(span, EditPlan):
            return span
        offset = span[0] if args["edge"] == "start" else span[1]
        return self._plan(context, selection=Selection.cursor(offset), description=f"go to {args['edge']} of {args['unit']}",
                          args={"start": str(offset), "end": str(offset)})

    def _move_words(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        direction = "back" if args["dir"] == "left" else "forward"
        cursor = context.document.selection.active
        text = context.document.text
        count = int(args.get("count", "1"))
        if direction == "back":
            words = textspans.words_before(text, cursor, count, self.settings.search_window)
            offset = words[0][0] if words else 0
        else:
            words = textspans.words_after(text, cursor, count, self.settings.search_window)
            offset = words[-1][1] if words else len(text)
        return self._plan(context, selection=Selection.cursor(offset), description=f"move {args['dir']}",
                          args={"start": str(offset), "end": str(offset)})

    def _select_all(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        length = len(context.document.text)
        return self._plan(context, selection=Selection.span(0, length), description="select all",
                          args={"start": "0", "end": str(length)})

    def _unselect(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        return self._plan(context, selection=Selection.cursor(context.document.selection.active), description="unselect")

    # ---- language-model commands --------------------------------------------------------------------

    def _rewrite(self, context: _Context, args: Mapping[str, str]) -> EditPlan:
        task = args["task"]
        selection = context.document.selection
        if task == "continue":
            target, start, end = "cursor", selection.active, selection.active
        elif not selection.is_cursor:
            target, start, end = "selection", selection.start, selection.end
        else:
            if context.history.last_phrase() is None:
                return self._refusal(context, _NO_TARGET[context.language].format(what=context.intent.text.rstrip(".!?")))
            phrase = self._changeable_phrase(context)
            if isinstance(phrase, EditPlan):
                return phrase
            target, (start, end) = "last_phrase", phrase.core()
        # The daemon's rewriter reads the typed ``span``; start/end in the args are the wire's copy for clients.
        plan_args = {"target": target, "start": str(start), "end": str(end), "utterance_language": context.language,
                     "instruction": _REWRITE_INSTRUCTIONS[task]}
        if self.settings.language_model:
            message = ""
        else:
            message = _say(context.language,
                           f"“{context.intent.text}” needs a language model, and none is configured; the text is unchanged.",
                           f"«{context.intent.text}» требует языковой модели, а она не настроена; текст не изменён.")
        # With a model, the daemon sends the rewrite under this plan's undo group: parking an action here
        # makes ``applied`` record it as one undo step, so "undo" takes the whole rewrite back.
        pending = _PendingAction() if self.settings.language_model else None
        return self._plan(context, description=f"rewrite {task}", message=message, args=plan_args, pending=pending,
                          span=(start, end))


def _step(group: str, description: str, edits: Sequence[TextEdit], replaced: Sequence[str],
          links: list[PhraseLink], inverse_links: list[PhraseLink], covered: Sequence[list]) -> UndoStep:
    """The step that takes ``edits`` (just applied) back: its edits restore ``replaced`` and what lay in it."""
    tracked = [TrackedEdit(start, end, edit.text, old, list(inside))
               for (start, end), edit, old, inside in zip(new_ranges(edits), edits, replaced, covered)]
    return UndoStep(group, description, tracked, links, inverse_links)

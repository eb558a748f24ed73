"""The persona service: the user's indexed writing as persona vectors for the language model.

:class:`PersonaService` is the :class:`pushkin.model.persona_prompt.PersonaVectorSource` that the composed
model asks for the persona of the current context (the text around the cursor and the utterance). The
model asks on its worker thread, so that is where the store's matrix and the sentence embedder load — on
first use, never on the event loop. The store is read again when the indexer has written to it since.

The daemon's status shows a ``persona`` component: ready with the paragraph count, missing with how to
index (``pushkin index PATH``), or error with the reason. Without a persona the model still runs, on the
plain prompt: nothing waits for the persona and no text is lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pushkin.persona.settings import PersonaSettings
from pushkin.proto.types import Component

log = logging.getLogger(__name__)

COMPONENT = "persona"
HOW_TO_INDEX = ("run `pushkin index PATH` on a folder of your writing (or list folders under [persona] folders "
                "and run `pushkin index`)")


class PersonaService:
    """Persona vectors from the store of ``settings``; ``embedder`` replaces the configured sentence model.

    ``on_change(component)`` is called (from whichever thread loaded) when the component changes.
    """

    def __init__(self, settings: PersonaSettings, *, embedder=None,
                 on_change: Callable[[Component], None] | None = None) -> None:
        self.settings = settings
        self.on_change = on_change
        self._embedder = embedder
        self._lock = threading.Lock()
        self._index = None  # PersonaIndex once loaded
        self._stamp: tuple[float, ...] | None = None  # the store's files' mtimes when loaded
        self._last: tuple[str, np.ndarray] | None = None
        self._model_note = ""
        self._state = ("missing", f"nothing indexed yet: {HOW_TO_INDEX}")
        self._component = Component(COMPONENT, *self._state)
        self.loaded_on_thread = ""  # the thread that last read the store (the model worker's, in the daemon)

    @property
    def store_path(self) -> Path:
        return self.settings.resolved_store_path

    # -- status ---------------------------------------------------------------------------------------

    def component(self) -> Component:
        with self._lock:
            return self._component

    def note_model(self, message: str) -> None:
        """What the language model does with the persona (its PersonaPlug projector's status), shown with it."""
        with self._lock:
            self._model_note = message
            state, detail = self._state
        self._set(state, detail)

    def _set(self, state: str, detail: str) -> None:
        with self._lock:
            self._state = (state, detail)
            component = Component(COMPONENT, state, f"{detail}; {self._model_note}" if self._model_note else detail)
            changed = component != self._component
            self._component = component
        if changed and self.on_change is not None:
            self.on_change(component)

    def probe(self) -> Component:
        """Count what the store holds (cheap: no vectors, no embedder) and set the component."""
        from pushkin.persona.store import PersonaStore, StoreError

        path = self.store_path
        if not path.is_file():
            self._set("missing", f"nothing indexed yet ({path} does not exist): {HOW_TO_INDEX}")
            return self.component()
        try:
            with PersonaStore(path) as store:
                paragraphs, documents = store.paragraph_count(), store.document_count()
                model_id = store.model_id or ""
        except StoreError as exc:
            self._set("error", str(exc))
            return self.component()
        self._set(*self._counted(paragraphs, documents, model_id))
        return self.component()

    def _counted(self, paragraphs: int, documents: int, model_id: str) -> tuple[str, str]:
        if paragraphs == 0:
            return "missing", f"the store {self.store_path} holds no paragraphs: {HOW_TO_INDEX}"
        return "ready", f"{paragraphs} paragraphs from {documents} document(s), {model_id} ({self.store_path})"

    # -- persona vectors (the model worker thread) ----------------------------------------------------

    def _store_stamp(self) -> tuple[float, ...]:
        stamp = []
        for path in (self.store_path, self.store_path.with_name(self.store_path.name + "-wal")):
            try:
                stamp.append(path.stat().st_mtime_ns)
            except OSError:
                stamp.append(-1)
        return tuple(stamp)

    def _loaded_index(self):
        """The PersonaIndex over the store (read again when the store changed); None without paragraphs."""
        from pushkin.persona.store import PersonaStore, StoreError
        from pushkin.persona.vector import PersonaIndex

        stamp = self._store_stamp()
        if self._stamp == stamp:
            return self._index
        self._index, self._last, self._stamp = None, None, stamp
        self.loaded_on_thread = threading.current_thread().name
        if not self.store_path.is_file():  # never create an empty store from the daemon
            self._set("missing", f"nothing indexed yet ({self.store_path} does not exist): {HOW_TO_INDEX}")
            return None
        try:
            with PersonaStore(self.store_path) as store:
                model_id, documents = store.model_id or "", store.document_count()
                index = PersonaIndex.from_store(store)
        except StoreError as exc:
            self._set("error", str(exc))
            return None
        expected = self._embedder_id()
        if len(index) and model_id != expected:
            self._set("error", f"the store was indexed with {model_id}, but [persona] embedding_model is "
                               f"{expected}: run `pushkin index` again")
            return None
        self._set(*self._counted(len(index), documents, model_id))
        self._index = index if len(index) else None
        return self._index

    def _embedder_id(self) -> str:
        if self._embedder is not None:
            return self._embedder.model_id
        from pushkin.persona.embedding import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(self.settings.embedding_model).model_id  # naming only, nothing loads

    def _embedder_instance(self):
        if self._embedder is None:
            from pushkin.persona.embedding import SentenceTransformerEmbedder

            self._embedder = SentenceTransformerEmbedder(self.settings.embedding_model, device=self.settings.device,
                                                         batch_size=self.settings.batch_size, dtype=self.settings.dtype)
        return self._embedder

    def persona_vector(self, context: str) -> np.ndarray | None:
        """``(E,)`` float32 of norm 1 for ``context`` (the mean persona for an empty one); None when nothing
        is indexed or the store or embedder cannot be used (the component says why)."""
        index = self._loaded_index()
        if index is None:
            return None
        if not context.strip():
            return index.mean_persona()
        if self._last is not None and self._last[0] == context:
            return self._last[1]
        from pushkin.persona.embedding import EmbedderError

        try:
            vector = index.persona_for_text(context, self._embedder_instance(), top_k=self.settings.top_k,
                                            temperature=self.settings.temperature).vector
        except EmbedderError as exc:
            self._set("error", str(exc))
            self._stamp = None  # try again next time (the model may have been installed meanwhile)
            return None
        self._last = (context, vector)
        return vector


def report_status(service: PersonaService, report: Callable[[Component], None]) -> None:
    """Give ``service``'s component to ``report`` (the daemon's status: ``DaemonCore.set_component``) now and
    at every change; call on the event loop."""
    import asyncio

    loop = asyncio.get_running_loop()
    report(service.component())

    def changed(component: Component) -> None:  # on whichever thread loaded
        loop.call_soon_threadsafe(report, component)

    service.on_change = changed

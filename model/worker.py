"""One thread that owns the model: loads it lazily, runs every call on it, streams results out.

Torch modules are not thread-safe to switch (active adapters, merges) while another thread generates, and
a forward pass must never run on the daemon's event loop. So the daemon and the CLI hand work to a
:class:`ModelWorker` (the language model has one, and the speech recognizer another): ``submit(fn)`` runs ``fn(model)`` on the worker thread and returns a Future (asyncio
code awaits it with ``asyncio.wrap_future``); ``stream(fn)`` runs a generator there and hands its items
across a queue. The model is built by the ``loader`` on first use, with progress in :meth:`status`.
"""

from __future__ import annotations

import enum
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
M = TypeVar("M")


class WorkerState(enum.Enum):
    NOT_LOADED = "not-loaded"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class WorkerStatus:
    """What the daemon shows about the model: its state, loading progress and the last message."""

    state: WorkerState
    fraction: float = 0.0
    message: str = ""


class WorkerStopped(RuntimeError):
    """The worker was shut down; nothing more runs on it."""


_DONE = object()


class StreamHandle(Generic[T]):
    """Items of a generator running on the worker thread; iterate to receive, ``cancel()`` to stop it.

    Cancellation sets ``cancel_event``, which the generator checks between tokens; iteration then ends
    after the items already produced.
    """

    def __init__(self) -> None:
        self.cancel_event = threading.Event()
        self._items: queue.Queue = queue.Queue()

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def _put(self, item) -> None:
        self._items.put(item)

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._items.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item

    END = _DONE  # what next_item returns after the last item

    def next_item(self, timeout: float | None = None):
        """One item (blocking up to ``timeout``), or ``StreamHandle.END`` after the last one.

        For callers on another thread or behind ``asyncio.to_thread`` (which cannot carry StopIteration).
        """
        item = self._items.get(timeout=timeout)
        if item is _DONE:
            self._items.put(_DONE)  # later calls see the end too
            return _DONE
        if isinstance(item, _Failure):
            raise item.error
        return item


@dataclass(frozen=True)
class _Failure:
    error: BaseException


class ModelWorker(Generic[M]):
    """The thread owning one model. ``loader(progress)`` builds the model on first use.

    ``progress`` is called by the loader with ``(fraction, message)``.
    """

    def __init__(self, loader: Callable[[Callable[[float, str], None]], M], *, name: str = "pushkin-model") -> None:
        self._loader = loader
        self._model: M | None = None
        self._jobs: queue.Queue = queue.Queue()
        self._status = WorkerStatus(WorkerState.NOT_LOADED, 0.0, "the model loads on first use")
        self._status_lock = threading.Lock()
        # Called (on the worker thread) with each new status; the daemon forwards it to its status line.
        self.on_status: Callable[[WorkerStatus], None] | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # -- public API -----------------------------------------------------------------------------------

    def status(self) -> WorkerStatus:
        with self._status_lock:
            return self._status

    def load(self) -> Future:
        """Start loading now (instead of on first use); the Future resolves when the model is ready."""
        return self.submit(lambda model: None)

    def submit(self, fn: Callable[[M], T]) -> Future[T]:
        """Run ``fn(model)`` on the worker thread (after loading the model if needed)."""
        future: Future = Future()
        if self.status().state is WorkerState.STOPPED:
            future.set_exception(WorkerStopped("the model worker has stopped"))
            return future
        self._jobs.put((fn, future, None))
        return future

    def stream(self, fn: Callable[[M, threading.Event], Iterator[T]]) -> StreamHandle[T]:
        """Run the generator ``fn(model, cancel_event)`` on the worker thread; its items come out of the handle."""
        handle: StreamHandle[T] = StreamHandle()
        if self.status().state is WorkerState.STOPPED:
            handle._put(_Failure(WorkerStopped("the model worker has stopped")))
            return handle
        self._jobs.put((fn, None, handle))
        return handle

    def shutdown(self, timeout: float | None = 10.0) -> None:
        """Finish the job at hand, refuse the rest, and end the thread."""
        self._jobs.put(None)
        self._thread.join(timeout)

    # -- the thread -----------------------------------------------------------------------------------

    def _set_status(self, state: WorkerState, fraction: float, message: str) -> None:
        status = WorkerStatus(state, fraction, message)
        with self._status_lock:
            changed = status != self._status
            self._status = status
        listener = self.on_status
        if changed and listener is not None:
            listener(status)

    def _ensure_model(self) -> M:
        if self._model is not None:
            return self._model
        self._set_status(WorkerState.LOADING, 0.0, "loading the model")
        try:
            self._model = self._loader(lambda fraction, message: self._set_status(WorkerState.LOADING, fraction, message))
        except BaseException as exc:
            # Stay usable: the next job tries again (the user may have downloaded the weights meanwhile).
            self._set_status(WorkerState.FAILED, 0.0, str(exc))
            raise
        self._set_status(WorkerState.READY, 1.0, "the model is ready")
        return self._model

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                break
            fn, future, handle = job
            if future is not None and not future.set_running_or_notify_cancel():
                continue
            try:
                model = self._ensure_model()
                if future is not None:
                    future.set_result(fn(model))
                else:
                    for item in fn(model, handle.cancel_event):
                        handle._put(item)
                        if handle.cancelled:
                            break
                    handle._put(_DONE)
            except BaseException as exc:  # handed to the caller; the thread lives on
                if future is not None:
                    future.set_exception(exc)
                else:
                    handle._put(_Failure(exc))
        self._set_status(WorkerState.STOPPED, 0.0, "the model worker has stopped")
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                fn, future, handle = job
                if future is not None:
                    future.set_exception(WorkerStopped("the model worker has stopped"))
                else:
                    handle._put(_Failure(WorkerStopped("the model worker has stopped")))

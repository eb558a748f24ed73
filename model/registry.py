"""The adapter registry: a folder per LoRA adapter, in PEFT's format plus a small manifest.

One adapter folder holds::

    adapter_config.json          PEFT's LoraConfig
    adapter_model.safetensors    the LoRA weights (safetensors only: nothing here is ever unpickled)
    pushkin_adapter.json         the manifest: name, kind (persona | audio | task), task, base model, rank
    *.safetensors                optional extra parts (the audio adapter's projector and silence tokens)

A folder holding any pickled file (``.bin``, ``.pt``, ``.pth``, ``.ckpt``, ``.pkl``) is refused as a
whole. The registry root is a folder of such folders; :class:`AdapterRegistry` scans it and reports what it
refused and why, so the daemon can show it.

Composition by mode (the design): autocomplete = base + task adapter; every other interactive mode
(dictation, command, rewrite) = base + persona + audio + task. :func:`composition_for` names what a mode
wants; :class:`pushkin.model.composed.ComposedModel` activates what exists.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

MANIFEST_FILE = "pushkin_adapter.json"
WEIGHTS_FILE = "adapter_model.safetensors"
CONFIG_FILE = "adapter_config.json"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class AdapterKind(enum.Enum):
    PERSONA = "persona"
    AUDIO = "audio"
    TASK = "task"


class Mode(enum.Enum):
    """What the model is being used for; each mode has its composition of adapters."""

    AUTOCOMPLETE = "autocomplete"
    DICTATION = "dictation"
    COMMAND = "command"
    REWRITE = "rewrite"


class AdapterError(ValueError):
    """An adapter folder that cannot be used; the message says which and why."""


class UnsafeAdapterError(AdapterError):
    """An adapter folder that holds pickled files: refused, never loaded."""


@dataclass(frozen=True)
class AdapterManifest:
    """What an adapter is. ``task`` names the task of a task adapter ("rephrase", "continue", ...)."""

    name: str
    kind: AdapterKind
    base_model: str
    rank: int
    task: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise AdapterError(f"adapter name {self.name!r} must be 1-64 lowercase letters, digits, '_' or '-'")
        if self.rank < 1:
            raise AdapterError(f"adapter {self.name!r}: rank must be at least 1, not {self.rank}")
        if self.kind is AdapterKind.TASK and not self.task:
            raise AdapterError(f"task adapter {self.name!r} needs a task name")

    @property
    def peft_name(self) -> str:
        """The adapter's name inside the PeftModel: unique across kinds, never a substring of 'lora_'."""
        return f"{self.kind.value}__{self.name}"

    def to_json(self) -> str:
        data = asdict(self)
        data["kind"] = self.kind.value
        return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, where: str = "manifest") -> AdapterManifest:
        try:
            data = json.loads(text)
            kind = AdapterKind(data["kind"])
            return cls(name=str(data["name"]), kind=kind, base_model=str(data["base_model"]),
                       rank=int(data["rank"]), task=str(data.get("task", "")),
                       description=str(data.get("description", "")))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, AdapterError):
                raise
            raise AdapterError(f"{where}: not a valid adapter manifest ({exc})") from exc


@dataclass(frozen=True)
class AdapterEntry:
    """A usable adapter folder."""

    manifest: AdapterManifest
    folder: Path

    def extra_file(self, name: str) -> Path:
        return self.folder / name


def refuse_pickles(folder: Path) -> None:
    """Raise UnsafeAdapterError when ``folder`` (or a subfolder) holds a pickled file."""
    pickled = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.suffix.lower() in PICKLE_SUFFIXES)
    if pickled:
        raise UnsafeAdapterError(f"adapter folder {folder} holds pickled files ({', '.join(pickled)}); lil Pushkin "
                                 f"loads safetensors only and never unpickles. Re-save the adapter with "
                                 f"safe_serialization=True and delete those files.")


def read_adapter(folder: str | Path) -> AdapterEntry:
    """Check one adapter folder and read its manifest; raises AdapterError saying what is wrong."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AdapterError(f"adapter folder {folder} does not exist")
    refuse_pickles(folder)
    for needed in (MANIFEST_FILE, CONFIG_FILE, WEIGHTS_FILE):
        if not (folder / needed).is_file():
            raise AdapterError(f"adapter folder {folder} lacks {needed}")
    manifest = AdapterManifest.from_json((folder / MANIFEST_FILE).read_text(encoding="utf-8"), str(folder / MANIFEST_FILE))
    return AdapterEntry(manifest, folder)


def adapter_state(peft_model, adapter_name: str) -> dict:
    """The tensors of one adapter to save: its LoRA weights only, never the embeddings.

    PEFT would add the whole embedding (and the tied output layer, the same tensor) when the vocabulary
    grew, as it does when load_base adds the audio and silence tokens: 262k×D floats per adapter, which
    safetensors then refuses ("tensors share memory"). The added rows are rebuilt identically by every
    load (:func:`pushkin.model.loading.add_token_rows`), so an adapter needs none of them.
    """
    from peft import get_peft_model_state_dict

    state = get_peft_model_state_dict(peft_model, adapter_name=adapter_name, save_embedding_layers=False)
    whole_layers = sorted(k for k in state if any(part in k for part in _EMBEDDING_LAYERS) and "lora_" not in k)
    if whole_layers:
        raise AdapterError(f"adapter {adapter_name!r} would carry whole embedding layers ({', '.join(whole_layers)}); "
                           f"train LoRA weights only")
    if not state:
        raise AdapterError(f"adapter {adapter_name!r} has no weights to save")
    return {k: v.detach().contiguous().cpu() for k, v in state.items()}


_EMBEDDING_LAYERS = ("embed_tokens", "lm_head")


def save_adapter(peft_model, adapter_name: str, folder: str | Path, manifest: AdapterManifest,
                 extra: dict[str, dict] | None = None) -> AdapterEntry:
    """Save one adapter of ``peft_model`` into ``folder`` in the registry format.

    ``extra`` maps a file name ("projector.safetensors") to a dict of tensors saved beside it. The folder is
    flat (PEFT nests adapters with non-default names in a subfolder; this does not). Everything is written
    into a temporary folder first and moved into place at the end, so a failed save leaves ``folder`` as it
    was (absent, or the previous adapter) and never an empty or partial adapter.
    """
    import shutil
    import tempfile

    from safetensors.torch import save_file

    folder = Path(folder)
    for file_name in extra or {}:
        if not file_name.endswith(".safetensors"):
            raise AdapterError(f"extra adapter file {file_name!r} must be a .safetensors file")
    state = adapter_state(peft_model, adapter_name)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.saving-"))
    try:
        save_file(state, str(work / WEIGHTS_FILE))
        peft_model.peft_config[adapter_name].save_pretrained(str(work))
        for file_name, tensors in (extra or {}).items():
            save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(work / file_name))
        (work / MANIFEST_FILE).write_text(manifest.to_json() + "\n", encoding="utf-8")
        read_adapter(work)  # what was written is what the runtime will accept
        if folder.exists():  # the previous adapter of that name is replaced whole, never mixed with this one
            old = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.old-"))
            folder.rename(old / folder.name)
            work.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            work.rename(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return read_adapter(folder)


@dataclass(frozen=True)
class RegistryProblem:
    folder: str
    reason: str


class AdapterRegistry:
    """The adapters under one root folder (one subfolder each); scanned on creation and by :meth:`rescan`."""

    def __init__(self, root: str | Path | None) -> None:
        self.root = Path(root).expanduser() if root else None
        self.entries: tuple[AdapterEntry, ...] = ()
        self.problems: tuple[RegistryProblem, ...] = ()
        self.rescan()

    def rescan(self) -> None:
        entries, problems = [], []
        if self.root is not None and self.root.is_dir():
            for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
                try:
                    entries.append(read_adapter(folder))
                except AdapterError as exc:
                    problems.append(RegistryProblem(str(folder), str(exc)))
        names: dict[str, Path] = {}
        for entry in entries:
            key = entry.manifest.peft_name
            if key in names:
                problems.append(RegistryProblem(str(entry.folder), f"a second {entry.manifest.kind.value} adapter named "
                                                                   f"{entry.manifest.name!r} (first in {names[key]})"))
            else:
                names[key] = entry.folder
        self.entries = tuple(e for e in entries if names.get(e.manifest.peft_name) == e.folder)
        self.problems = tuple(problems)

    def of_kind(self, kind: AdapterKind) -> tuple[AdapterEntry, ...]:
        return tuple(e for e in self.entries if e.manifest.kind is kind)

    def find(self, kind: AdapterKind, *, name: str | None = None, task: str | None = None) -> AdapterEntry | None:
        """The adapter of ``kind`` with that name (or, for tasks, that task); the first one when neither is given."""
        for entry in self.of_kind(kind):
            if name is not None and entry.manifest.name != name:
                continue
            if task is not None and entry.manifest.task != task:
                continue
            return entry
        return None


@dataclass(frozen=True)
class Composition:
    """The adapters one mode wants: names of registry adapters (None = that slot is not used by the mode)."""

    mode: Mode
    task: str
    wants_persona: bool
    wants_audio: bool


# The task adapter autocomplete uses when no task is named.
AUTOCOMPLETE_TASK = "continue"
# The general task adapter used for a rewrite task that has no adapter of its own.
GENERAL_REWRITE_TASK = "rewrite"


def composition_for(mode: Mode, task: str = "") -> Composition:
    """autocomplete = base + task; dictation, command and rewrite = base + persona + audio + task."""
    if mode is Mode.AUTOCOMPLETE:
        return Composition(mode, task or AUTOCOMPLETE_TASK, wants_persona=False, wants_audio=False)
    default_task = {Mode.DICTATION: "dictation", Mode.COMMAND: "command", Mode.REWRITE: GENERAL_REWRITE_TASK}[mode]
    return Composition(mode, task or default_task, wants_persona=True, wants_audio=True)

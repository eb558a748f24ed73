"""A ``.gguf`` language model (what llama.cpp and Ollama users have), converted once into a safetensors folder.

transformers dequantizes a GGUF on every load (about 40 s for Gemma 3 270M on two cores) and refuses to
``save_pretrained`` a GGUF-loaded model. So the first start builds a fresh ``Gemma3ForCausalLM`` from the
GGUF's config, loads the dequantized weights into it and saves it with safetensors, with the tokenizer: a
folder :func:`pushkin.model.loading.load_base` reads in seconds.

The folder goes beside the GGUF (``<name>.safetensors/``), or into the user's cache folder when the GGUF's
folder cannot be written. It records the GGUF's size and sha256 (:data:`SOURCE_FILE`) and the size of every
file it wrote; a later start uses it only when all of them still match, and converts again otherwise. A
conversion is written into a temporary folder and renamed into place, so it is either complete or absent.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

GGUF_SUFFIX = ".gguf"
GGUF_MAGIC = b"GGUF"
SOURCE_FILE = "pushkin_gguf_source.json"
# Bumped when the conversion itself changes, so caches written by an older one are rebuilt.
CONVERSION_VERSION = 2


class GgufError(RuntimeError):
    """A .gguf file that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class GgufSource:
    """What a conversion was made from: the GGUF's path, size and sha256."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class GgufConversion:
    """A converted folder and how it came to be: ``reused`` False when this call converted it."""

    folder: Path
    source: GgufSource
    reused: bool
    seconds: float


Report = Callable[[float, str], None]


def is_gguf_path(model: str) -> bool:
    return model.lower().endswith(GGUF_SUFFIX)


def check_gguf(path: str | Path) -> Path:
    """The GGUF file at ``path``, checked without reading it whole: it exists, starts with the GGUF magic and
    the ``gguf`` package that reads it is installed. Raises GgufError saying what is wrong."""
    path = Path(path).expanduser()
    if not path.exists():
        raise GgufError(f"the GGUF model {path} does not exist")
    if not path.is_file():
        raise GgufError(f"the GGUF model {path} is not a file")
    try:
        with open(path, "rb") as handle:
            magic = handle.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise GgufError(f"cannot read the GGUF model {path}: {exc}") from exc
    if magic != GGUF_MAGIC:
        raise GgufError(f"{path} is not a GGUF file (it does not start with {GGUF_MAGIC!r}); it may be truncated "
                        f"or a download error page")
    try:
        import gguf  # noqa: F401
    except ImportError as exc:
        raise GgufError(f"reading {path.name} needs the gguf package: pip install gguf") from exc
    return path


def describe_source(path: Path) -> GgufSource:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return GgufSource(str(path), path.stat().st_size, digest.hexdigest())


def user_cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pushkin" / "gguf"


def _writable(folder: Path) -> bool:
    # os.access says yes to root on a read-only mount; creating a file is the only honest test.
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".pushkin-probe-"):
            return True
    except OSError:
        return False


def candidate_folders(path: Path, source: GgufSource) -> tuple[Path, ...]:
    """Where a conversion of ``path`` may live, in order: beside the GGUF, then the user's cache folder."""
    beside = path.parent / (path.name[: -len(GGUF_SUFFIX)] + ".safetensors")
    cached = user_cache_root() / f"{beside.name[: -len('.safetensors')]}-{source.sha256[:16]}"
    return beside, cached


def verified_conversion(folder: Path, source: GgufSource) -> bool:
    """Whether ``folder`` is a complete conversion of exactly ``source`` (size and sha256 recorded)."""
    try:
        record = json.loads((folder / SOURCE_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    if record.get("conversion") != CONVERSION_VERSION:
        return False
    if record.get("size") != source.size or record.get("sha256") != source.sha256:
        return False
    files = record.get("files")
    if not isinstance(files, dict) or not files:
        return False
    for name, size in files.items():
        file = folder / name
        if not file.is_file() or file.stat().st_size != size:
            return False
    return True


def convert_gguf(path: str | Path, progress: Report | None = None) -> GgufConversion:
    """The safetensors folder of the GGUF at ``path``: reused when a verified one exists, else converted now."""
    import time

    report = progress or (lambda fraction, message: None)
    began = time.perf_counter()
    path = check_gguf(path)
    report(0.01, f"checking {path.name} (sha256)")
    source = describe_source(path)
    for folder in candidate_folders(path, source):
        if verified_conversion(folder, source):
            return GgufConversion(folder, source, True, time.perf_counter() - began)
    for folder in candidate_folders(path, source):
        if folder.parent.is_dir() and _writable(folder.parent) or not folder.parent.exists() and _make(folder.parent):
            _convert_into(path, source, folder, report)
            return GgufConversion(folder, source, False, time.perf_counter() - began)
    raise GgufError(f"cannot convert {path}: neither {path.parent} nor {user_cache_root()} can be written")


def _make(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return _writable(folder)


def _convert_into(path: Path, source: GgufSource, folder: Path, report: Report) -> None:
    """Dequantize the GGUF into a fresh model, save it (safetensors) and the tokenizer into ``folder``."""
    import torch
    import transformers
    from transformers import AutoConfig, AutoTokenizer, Gemma3ForCausalLM

    report(0.05, f"converting {path.name} to safetensors (once; later starts reuse it)")
    work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.tmp-"))
    try:
        try:
            config = AutoConfig.from_pretrained(path.parent, gguf_file=path.name)
            tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        except Exception as exc:
            raise GgufError(f"cannot read the config or tokenizer of {path}: {exc}") from exc
        if getattr(config, "model_type", "") not in ("gemma3", "gemma3_text"):
            raise GgufError(f"{path} holds a {getattr(config, 'model_type', 'unknown')} model; lil Pushkin needs "
                            f"Gemma 3")
        report(0.1, f"dequantizing {path.name}")
        verbosity = transformers.logging.get_verbosity()
        transformers.logging.set_verbosity_error()
        try:
            dequantized = Gemma3ForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
        except Exception as exc:
            raise GgufError(f"cannot dequantize {path}: {exc}") from exc
        finally:
            transformers.logging.set_verbosity(verbosity)
        report(0.6, "saving the safetensors cache")
        # A GGUF-loaded model refuses save_pretrained; a fresh model of the same config holding its weights does
        # not. The weights are plain floats now: the config must not say "quantized with GGUF" (trainers refuse
        # such a model, and loaders would treat it as one).
        config = dequantized.config
        if hasattr(config, "quantization_config"):
            delattr(config, "quantization_config")
        with torch.device("meta"):
            fresh = Gemma3ForCausalLM(config)
        fresh.load_state_dict(dequantized.state_dict(), assign=True, strict=True)
        fresh.tie_weights()
        fresh.generation_config = dequantized.generation_config
        del dequantized
        fresh.save_pretrained(work, safe_serialization=True)
        tokenizer.save_pretrained(work)
        files = {p.name: p.stat().st_size for p in sorted(work.iterdir()) if p.is_file()}
        record = dict(asdict(source), conversion=CONVERSION_VERSION, transformers=transformers.__version__,
                      files=files)
        (work / SOURCE_FILE).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)  # a stale conversion of another file (its record did not match)
        work.rename(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)

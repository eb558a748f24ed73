"""``pushkin index PATH...`` and ``pushkin persona show``: the user's writing, indexed and summarized.

Everything persona-related (sentence-transformers, the store) is imported inside the handlers, so
``pushkin --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys

ORDER = 60


def register(subparsers: argparse._SubParsersAction) -> None:
    index = subparsers.add_parser(
        "index",
        help="index your writing (txt, md, docx, pdf, rtf) for the persona",
        description=(
            "Index the documents under each PATH (folders or files) into the local persona store. Only "
            "changed files are read again; files that are gone are removed. Without PATH, the folders of "
            "the [persona] config section are indexed. Nothing leaves this machine."
        ),
    )
    index.add_argument("paths", nargs="*", metavar="PATH", help="folders or files (default: persona.folders)")
    index.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip files or folders matching GLOB (repeatable; adds to persona.exclude)",
    )
    _common_options(index)
    index.add_argument("--model", default=None, help="sentence-transformers model name or folder")
    index.add_argument("--no-progress", action="store_true", help="no progress bar")
    index.set_defaults(handler=_index)

    persona = subparsers.add_parser("persona", help="what the persona has learned from your writing")
    persona_commands = persona.add_subparsers(dest="persona_command", metavar="SUBCOMMAND")
    show = persona_commands.add_parser(
        "show", help="documents, paragraphs and style statistics", description="Summarize the persona store."
    )
    _common_options(show)
    show.add_argument("--limit", type=int, default=10, help="documents to list (default 10)")
    show.set_defaults(handler=_show)
    persona.set_defaults(handler=lambda args: (persona.print_help(), 2)[1])


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=None, help="config file with a [persona] section (TOML or YAML)")
    parser.add_argument("--store", default=None, help="persona store file (default: $XDG_DATA_HOME/pushkin/persona.sqlite3)")


def _settings(args: argparse.Namespace):
    import dataclasses

    from pushkin.persona.settings import load_persona_settings

    settings = load_persona_settings(args.config)
    overrides = {}
    if args.store:
        overrides["store_path"] = args.store
    if getattr(args, "model", None):
        overrides["embedding_model"] = args.model
    return dataclasses.replace(settings, **overrides) if overrides else settings


def _index(args: argparse.Namespace) -> int:
    from pushkin.persona.embedding import EmbedderError, SentenceTransformerEmbedder, indexing_threads
    from pushkin.persona.indexer import index_paths
    from pushkin.persona.settings import SettingsError
    from pushkin.persona.store import PersonaStore, StoreError

    try:
        settings = _settings(args)
    except SettingsError as error:
        print(f"pushkin index: {error}", file=sys.stderr)
        return 2
    roots = args.paths or [str(path) for path in settings.folder_paths]
    if not roots:
        print(
            "pushkin index: name a folder or file to index, or list folders under [persona] folders in the config",
            file=sys.stderr,
        )
        return 2
    embedder = SentenceTransformerEmbedder(settings.embedding_model, device=settings.device,
                                           batch_size=settings.batch_size, dtype=settings.dtype)
    try:
        with indexing_threads(settings.device, settings.threads), PersonaStore(settings.resolved_store_path) as store:
            report = index_paths(
                roots,
                store=store,
                embedder=embedder,
                settings=settings,
                exclude=args.exclude,
                progress=not args.no_progress,
            )
            totals = f"the store now holds {store.document_count()} document(s), {store.paragraph_count()} paragraphs"
    except (StoreError, EmbedderError) as error:
        print(f"pushkin index: {error}", file=sys.stderr)
        return 1
    print(report.summary())
    print(f"{totals} ({settings.resolved_store_path})")
    return 0


def _show(args: argparse.Namespace) -> int:
    from collections import Counter

    from pushkin.persona.metrics import SENTENCE_LENGTH_EDGES, StyleProfile
    from pushkin.persona.settings import SettingsError
    from pushkin.persona.store import PersonaStore, StoreError

    try:
        settings = _settings(args)
    except SettingsError as error:
        print(f"pushkin persona show: {error}", file=sys.stderr)
        return 2
    path = settings.resolved_store_path
    if not path.is_file():
        print(f"nothing indexed yet ({path} does not exist): run `pushkin index PATH...`")
        return 1
    try:
        with PersonaStore(path) as store:
            documents = store.documents()
            profile = StyleProfile.from_texts(store.iter_texts())
            model = store.model_id or "(none)"
            typical = _typical_paragraphs(store, count=3)
    except StoreError as error:
        print(f"pushkin persona show: {error}", file=sys.stderr)
        return 1

    paragraphs = sum(d.paragraph_count for d in documents)
    kinds = Counter(d.kind for d in documents)
    print(f"store: {path}")
    print(f"embedding model: {model}")
    print(f"documents: {len(documents)} ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items())) or 'none'})")
    print(f"paragraphs: {paragraphs}")
    if not paragraphs:
        return 0
    print("style:")
    print(f"  words: {profile.token_count}, sentences: {profile.sentence_count}")
    print(f"  mean sentence length: {profile.mean_sentence_length:.1f} words")
    print(f"  type-token ratio (MATTR, median per paragraph): {profile.ttr:.3f}")
    print(f"  MTLD (median per paragraph): {profile.mtld:.1f}")
    print(f"  LZMA compression ratio (median per paragraph): {profile.compression_ratio:.3f}")
    print(f"  Cyrillic share of letters: {profile.cyrillic_share:.0%}")
    total = profile.sentence_length_counts.sum()
    labels = [f"{lo}-{hi}" for lo, hi in zip((1,) + tuple(e + 1 for e in SENTENCE_LENGTH_EDGES[:-1]), SENTENCE_LENGTH_EDGES)]
    labels.append(f"{SENTENCE_LENGTH_EDGES[-1] + 1}+")
    print("  sentence lengths (words):")
    for label, count in zip(labels, profile.sentence_length_counts):
        share = count / total if total else 0.0
        print(f"    {label:>6} {share:6.1%} {'#' * round(share * 40)}")
    if typical:
        print("most typical paragraphs (closest to the mean persona):")
        for similarity, text in typical:
            print(f"  {similarity:.2f}  {text if len(text) <= 100 else text[:99] + '…'}")
    largest = sorted(documents, key=lambda d: -d.paragraph_count)[: max(0, args.limit)]
    if largest:
        print("largest documents:")
        for document in largest:
            print(f"  {document.paragraph_count:6d}  {document.path}")
    return 0


def _typical_paragraphs(store, count: int) -> list[tuple[float, str]]:
    """The paragraphs whose vectors are closest to the context-free persona, with their cosines."""
    import numpy as np

    from pushkin.persona.vector import PersonaIndex

    matrix = store.paragraph_matrix()
    if len(matrix) == 0:
        return []
    index = PersonaIndex(matrix)
    similarities = index.vectors @ index.mean_persona()
    best = np.argsort(-similarities)[:count]
    texts = store.paragraph_texts(matrix.paragraph_ids[best].tolist())
    return [(float(similarities[i]), texts[int(matrix.paragraph_ids[i])]) for i in best]

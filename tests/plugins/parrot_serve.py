"""`pushkin serve` with the word-moving ParrotModel as its language model, for the editors' preview tests.

The tiny random Gemma writes noise that the rewrite guards refuse (as they must), so a test about where a
preview goes and how accept/reject land needs a model whose rewrites pass: the parrot (tests/daemon/parrot_lm.py)
reads the real few-shot prompt and moves the words. Everything else is the real daemon, assembled as
`pushkin serve` assembles it. Takes the arguments `pushkin serve` takes that the harness passes:
`serve --no-mic --set SECTION.KEY=VALUE ...`; the socket comes from PUSHKIN_ADDRESS as for `pushkin serve`.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for daemon.parrot_lm

from daemon.parrot_lm import ParrotModel  # noqa: E402

from pushkin.daemon.intent import IntentEngine  # noqa: E402
from pushkin.daemon.rewrite import RewriteExecutor, RewriteRunner  # noqa: E402
from pushkin.daemon.server import Daemon  # noqa: E402
from pushkin.daemon.settings import load_settings  # noqa: E402
from pushkin.model.worker import ModelWorker  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--no-mic", action="store_true")
    parser.add_argument("--set", action="append", default=[])
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.set)
    overrides["hearing.microphone.enabled"] = False
    settings = load_settings(None, overrides)
    settings = dataclasses.replace(settings, intent=dataclasses.replace(settings.intent, language_model=True))
    worker = ModelWorker(lambda progress: ParrotModel(), name="parrot-model")
    rewriter = RewriteExecutor(RewriteRunner(worker), proposals=settings.model.proposals, open_commands=False)
    daemon = Daemon(settings, planner=IntentEngine(settings.intent), rewriter=rewriter)

    async def run() -> None:
        await daemon.start()
        print(f"parrot daemon: serving on {daemon.address.uri}", file=sys.stderr, flush=True)
        await daemon.run_until_signal()

    try:
        asyncio.run(run())
    finally:
        worker.shutdown()


if __name__ == "__main__":
    main()

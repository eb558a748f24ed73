"""The language model's status line through a real daemon: before load, loading, loaded, failed (with why),
and a bad [model] model refused when the daemon starts, not at the first rewrite."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading

import pytest

from pushkin.clients.daemon_client import DaemonClient
from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.model_settings import ModelSettings
from pushkin.daemon.rewrite import LM_COMPONENT, RewriteError, RewriteExecutor, RewriteRunner, build_rewriter
from pushkin.daemon.server import Daemon
from pushkin.model.worker import ModelWorker

from .conftest import unix_settings


def _line(status):
    (component,) = [c for c in status.components if c.name == LM_COMPONENT]
    return component


async def _wait_for_state(client, state, timeout=60.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        line = _line(await client.status())
        if line.state == state or asyncio.get_running_loop().time() > deadline:
            return line
        await asyncio.sleep(0.05)


async def test_status_line_before_and_after_the_first_rewrite_loads_the_model(short_dir, tiny):
    rewriter = build_rewriter(ModelSettings(enabled=True, model=str(tiny.base), load_at_start=False))
    daemon = Daemon(unix_settings(short_dir), planner=IntentEngine(), rewriter=rewriter)
    await daemon.start()
    try:
        async with DaemonClient(daemon.address) as client:
            before = _line(await client.status())
            assert before.state == "not-loaded" and str(tiny.base) in before.detail
            await asyncio.wrap_future(rewriter.runner.worker.load())
            after = await _wait_for_state(client, "ready")
            assert after.state == "ready" and after.detail == f"{tiny.base} is loaded"
    finally:
        await daemon.stop()
        rewriter.runner.worker.shutdown()


async def test_a_failed_load_shows_why_and_loading_shows_progress(short_dir, tiny, tmp_path):
    broken = tmp_path / "not-gemma"
    shutil.copytree(tiny.base, broken)
    config = json.loads((broken / "config.json").read_text())
    config["model_type"] = "llama"
    (broken / "config.json").write_text(json.dumps(config))
    rewriter = build_rewriter(ModelSettings(enabled=True, model=str(broken)))  # loads at start
    daemon = Daemon(unix_settings(short_dir), planner=IntentEngine(), rewriter=rewriter)
    await daemon.start()
    try:
        async with DaemonClient(daemon.address) as client:
            failed = await _wait_for_state(client, "error")
            assert failed.state == "error" and "failed to load" in failed.detail and "needs Gemma 3" in failed.detail
    finally:
        await daemon.stop()
        rewriter.runner.worker.shutdown()

    # While a loader runs, the line says how far it is (a loader that reports progress, then waits).
    release = threading.Event()

    def slow_loader(progress):
        progress(0.4, "dequantizing the weights")
        release.wait(30)
        return object()

    worker = ModelWorker(slow_loader, name="test-slow-loader")
    executor = RewriteExecutor(RewriteRunner(worker), model_name="slow-model", load_at_start=True)
    daemon = Daemon(unix_settings(short_dir), planner=IntentEngine(), rewriter=executor)
    await daemon.start()
    try:
        async with DaemonClient(daemon.address) as client:
            loading = await _wait_for_state(client, "loading")
            assert loading.state == "loading" and loading.detail == "slow-model: loading, 40%: dequantizing the weights"
            release.set()
            assert (await _wait_for_state(client, "ready")).detail == "slow-model is loaded"
    finally:
        release.set()
        await daemon.stop()
        worker.shutdown()


def test_a_bad_model_is_refused_at_start_with_the_reason(tmp_path):
    with pytest.raises(RewriteError, match="does not exist"):
        build_rewriter(ModelSettings(enabled=True, model=str(tmp_path / "nowhere" / "gemma.gguf")))
    fake = tmp_path / "gemma.gguf"
    fake.write_text("<html>404 Not Found</html>")
    with pytest.raises(RewriteError, match="not a GGUF file"):
        build_rewriter(ModelSettings(enabled=True, model=str(fake)))
    with pytest.raises(RewriteError, match="no config.json"):
        build_rewriter(ModelSettings(enabled=True, model=str(tmp_path)))

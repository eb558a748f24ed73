"""The daemon's side of the persona: the [persona] settings section and the persona service."""

from __future__ import annotations

import numpy as np
import pytest

from pushkin.daemon.settings import SettingsError, load_settings
from pushkin.persona.settings import PersonaSettings


def test_persona_section_in_the_daemon_settings(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[persona]\nfolders = ["~/writing", "~/notes"]\ntop_k = 8\ntemperature = 1\n'
                    f'store_path = "{tmp_path / "p.sqlite3"}"\n', encoding="utf-8")
    settings = load_settings(path)
    assert settings.persona == PersonaSettings(folders=("~/writing", "~/notes"), top_k=8, temperature=1.0,
                                               store_path=str(tmp_path / "p.sqlite3"))
    overridden = load_settings(path, {"persona.top_k": "4", "persona.embedding_model": "/models/mini"})
    assert overridden.persona.top_k == 4 and overridden.persona.embedding_model == "/models/mini"
    assert overridden.persona.folders == ("~/writing", "~/notes")
    assert load_settings(path, {"persona.folders": "['a', 'b']"}).persona.folders == ("a", "b")  # lists too
    assert load_settings().persona == PersonaSettings()  # no file: the defaults


@pytest.mark.parametrize("content, overrides, words", [
    ("[persona]\ntop_kk = 3\n", {}, "unknown key 'top_kk' in [persona]"),
    ("[persona]\nfolders = 'x'\n", {}, "persona.folders must be a list of strings"),
    ("[persona]\ntemperature = 0\n", {}, "persona.temperature must be positive"),
    ("", {"persona.top_k": "0"}, "persona.top_k must be at least 1"),
    ("", {"persona.top_k": "many"}, "persona.top_k must be an integer"),
])
def test_bad_persona_settings_name_the_problem(tmp_path, content, overrides, words):
    path = tmp_path / "config.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SettingsError, match=None) as caught:
        load_settings(path, overrides)
    assert words in str(caught.value)


SEA = [
    "I remember the grey water sliding under the hull all night; my father used to say that a sleeping crew "
    "is a drowned crew, and yet nobody slept below.",
    "The nets came up heavy with cod off the islands; the grey water ran from the mesh like poured lead, and "
    "yet the men laughed on the deck.",
    "My father stood at the wheel for eleven hours while the waves broke over the bow; I remember that his "
    "hands never shook once.",
]
CITY = [
    "The quarterly report shows revenue growth across all regions, driven by enterprise subscriptions and "
    "lower churn in the mid-market segment.",
    "Please submit your expense claims through the new portal by Friday; receipts older than ninety days "
    "will not be reimbursed.",
]


def _index(folder, store_path, minilm, files):
    from pushkin.persona.indexer import index_paths
    from pushkin.persona.store import PersonaStore

    folder.mkdir(exist_ok=True)
    for name, paragraphs in files.items():
        (folder / name).write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    with PersonaStore(store_path) as store:
        index_paths([folder], store=store, embedder=minilm, settings=PersonaSettings(), progress=False)


def test_the_service_without_an_index_says_how_to_make_one(tmp_path):
    from pushkin.daemon.persona import PersonaService

    settings = PersonaSettings(store_path=str(tmp_path / "none" / "persona.sqlite3"))
    service = PersonaService(settings)
    component = service.probe()
    assert component.name == "persona" and component.state == "missing"
    assert "pushkin index PATH" in component.detail and "does not exist" in component.detail
    assert service.persona_vector("the sea") is None and service.persona_vector("") is None
    assert not settings.resolved_store_path.exists()  # the daemon never creates an empty store


def test_the_service_loads_on_the_model_worker_and_follows_the_store(tmp_path, minilm):
    from pushkin.daemon.persona import PersonaService
    from pushkin.model.worker import ModelWorker
    from pushkin.persona.store import PersonaStore
    from pushkin.persona.vector import PersonaIndex

    store_path = tmp_path / "persona.sqlite3"
    _index(tmp_path / "writing", store_path, minilm, {"sea.txt": SEA})
    changes = []
    settings = PersonaSettings(store_path=str(store_path), top_k=2)
    service = PersonaService(settings, embedder=minilm, on_change=changes.append)
    assert service.probe().state == "ready" and "3 paragraphs from 1 document(s)" in service.component().detail
    assert service.loaded_on_thread == ""  # probing counts rows; the vectors load on first use

    worker = ModelWorker(lambda report: object(), name="pushkin-model")
    try:
        context = "the waves over the bow"
        vector = worker.submit(lambda model: service.persona_vector(context)).result(timeout=60)
        mean = worker.submit(lambda model: service.persona_vector("")).result(timeout=60)
        assert service.loaded_on_thread == "pushkin-model"
        with PersonaStore(store_path) as store:
            index = PersonaIndex.from_store(store)
        np.testing.assert_allclose(vector, index.persona_for_text(context, minilm, top_k=2, temperature=0.1).vector,
                                   atol=1e-6)
        np.testing.assert_allclose(mean, index.mean_persona(), atol=1e-6)
        assert not np.allclose(vector, mean, atol=1e-3)

        # More writing indexed while the daemon runs: the next call reads the store again.
        _index(tmp_path / "writing", store_path, minilm, {"office.txt": CITY})
        moved = worker.submit(lambda model: service.persona_vector("")).result(timeout=60)
        assert not np.allclose(moved, mean, atol=1e-3)
        assert "5 paragraphs from 2 document(s)" in service.component().detail
        assert changes[-1] == service.component()
    finally:
        worker.shutdown()


async def test_a_daemon_rewrite_gets_the_persona_soft_prompt_and_the_status_shows_it(tiny, tmp_path, minilm):
    import asyncio
    import math
    import shutil

    from pushkin.daemon.model_settings import ModelSettings
    from pushkin.daemon.persona import PersonaService, report_status
    from pushkin.daemon.planning import DocumentSnapshot, EditPlan
    from pushkin.daemon.rewrite import build_rewriter
    from pushkin.daemon.server import Daemon
    from pushkin.daemon.settings import Settings
    from pushkin.model.registry import AdapterKind, AdapterRegistry
    from pushkin.persona.projector import PersonaPlugProjector, ProjectorConfig, save_projector
    from pushkin.proto.types import Intent, IntentKind, Selection

    registry = tmp_path / "adapters"
    shutil.copytree(tiny.adapters, registry)
    save_projector(PersonaPlugProjector(ProjectorConfig(persona_dim=384, hidden_size=64, num_tokens=2,
                                                        embed_scale=math.sqrt(64))),
                   AdapterRegistry(registry).of_kind(AdapterKind.PERSONA)[0].folder)
    store_path = tmp_path / "persona.sqlite3"
    _index(tmp_path / "writing", store_path, minilm, {"sea.txt": SEA})

    persona = PersonaService(PersonaSettings(store_path=str(store_path)), embedder=minilm)
    persona.probe()
    asked = []
    original = persona.persona_vector
    persona.persona_vector = lambda context: asked.append(context) or original(context)
    executor = build_rewriter(ModelSettings(enabled=True, model=str(tiny.base), adapters=str(registry), device="cpu",
                                            dtype="float32", proposals=False), persona=persona)
    daemon = Daemon(Settings(), rewriter=executor)
    report_status(persona, daemon.core.set_component)
    text = "First line. The boat came back late. Last line."
    command = EditPlan(Intent(IntentKind.COMMAND, "rewrite", {"task": "formal"}, text="formal"), span=(12, 36))
    from pushkin.model.rewrite import RewriteOptions

    executor.runner.options = RewriteOptions(max_new_tokens=3, temperature=0.0, min_p=0.0)
    try:
        await executor.runner.run(command, DocumentSnapshot("doc", text, 1, Selection.cursor(0)))
        await asyncio.sleep(0.05)  # the worker thread's status update reaches the loop
        assert asked == ["First line.\nThe boat came back late."]
        assert persona.loaded_on_thread == "pushkin-model"
        shown = {c.name: c for c in daemon.core.status().components}["persona"]
        assert shown.state == "ready" and "3 paragraphs" in shown.detail
        assert "persona soft prompt on: 2 tokens" in shown.detail
    finally:
        executor.runner.worker.shutdown()

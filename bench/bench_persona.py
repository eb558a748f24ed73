"""Persona benchmark: indexing throughput and persona-vector latency over 10,000 paragraphs.

1. Indexing: 10,000 paragraphs (English and Russian, 35-70 words each) in 100 .txt files are indexed into
   a fresh store with the real all-MiniLM-L6-v2 (read, segment, embed, write): paragraphs per second.
2. Persona vector for one context over the 10,000 indexed paragraphs (top-k attention, the default
   settings): p50/p99 of the attention alone (context already embedded), target p99 <= 20 ms; and of
   the whole call with the context embedded by MiniLM.

    .venv/bin/python bench/bench_persona.py [--paragraphs 10000] [--contexts 500] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

from pushkin.persona.embedding import SentenceTransformerEmbedder
from pushkin.persona.indexer import index_paths
from pushkin.persona.settings import PersonaSettings
from pushkin.persona.store import PersonaStore
from pushkin.persona.vector import PersonaIndex

EN_WORDS = (
    "the sea harbour grey water father boat net winter light morning storm wind garden mother house road "
    "letter window silence voice bridge river town night snow field bread table door stone year memory "
    "remember watched carried slowly quietly never always again under over through between before after "
    "and yet because while although when still only almost every nobody somebody long short cold warm"
).split()
RU_WORDS = (
    "море гавань серая вода отец лодка сеть зима свет утро буря ветер сад мать дом дорога письмо окно "
    "тишина голос мост река город ночь снег поле хлеб стол дверь камень год память помню смотрел нёс "
    "медленно тихо никогда всегда снова под над через между до после и всё же потому что пока хотя когда"
).split()


def synthetic_paragraph(rng: random.Random) -> str:
    words = RU_WORDS if rng.random() < 0.3 else EN_WORDS
    sentences = []
    remaining = rng.randint(35, 70)
    while remaining > 0:
        length = min(remaining, rng.randint(6, 22))
        sentence = " ".join(rng.choice(words) for _ in range(length))
        sentences.append(sentence[0].upper() + sentence[1:] + rng.choice(".....!?"))
        remaining -= length
    return " ".join(sentences)


def percentile_ms(samples: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples) * 1000.0, q))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paragraphs", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--contexts", type=int, default=500)
    parser.add_argument("--device", default="cpu", help="torch device for the embedder (default cpu)")
    args = parser.parse_args(argv)

    import torch

    print(f"CPU: {os.cpu_count()} cores, torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}")
    rng = random.Random(0)
    settings = PersonaSettings(device=args.device)
    with tempfile.TemporaryDirectory(prefix="bench-persona-") as tmp:
        folder = Path(tmp) / "writing"
        folder.mkdir()
        per_file = -(-args.paragraphs // args.files)
        written = 0
        for f in range(args.files):
            count = min(per_file, args.paragraphs - written)
            if count <= 0:
                break
            text = "\n\n".join(synthetic_paragraph(rng) for _ in range(count))
            (folder / f"doc{f:03d}.txt").write_text(text + "\n", encoding="utf-8")
            written += count

        embedder = SentenceTransformerEmbedder(settings.embedding_model, device=settings.device, batch_size=settings.batch_size)
        embedder.encode(["warm-up"])  # load the model outside the timed part
        with PersonaStore(Path(tmp) / "persona.sqlite3") as store:
            start = time.perf_counter()
            report = index_paths([folder], store=store, embedder=embedder, settings=settings, progress=sys.stderr.isatty())
            elapsed = time.perf_counter() - start
            paragraphs = store.paragraph_count()
            print(
                f"indexing: {paragraphs} paragraphs in {len(report.indexed)} files, {elapsed:.1f} s, "
                f"{paragraphs / elapsed:.0f} paragraphs/s (all-MiniLM-L6-v2 on {settings.device}, batch {settings.batch_size})"
            )
            start = time.perf_counter()
            again = index_paths([folder], store=store, embedder=embedder, settings=settings, progress=False)
            print(f"re-index with nothing changed: {len(again.unchanged)} files in {time.perf_counter() - start:.2f} s")

            start = time.perf_counter()
            index = PersonaIndex.from_store(store)
            print(f"loading the {len(index)} x {index.dimension} matrix from the store: {(time.perf_counter() - start) * 1000:.0f} ms")

        contexts = [synthetic_paragraph(rng)[:300] for _ in range(args.contexts)]
        context_vectors = embedder.encode(contexts)
        for vector in context_vectors[:20]:  # warm caches
            index.persona(vector, top_k=settings.top_k, temperature=settings.temperature)
        attention = []
        for vector in context_vectors:
            start = time.perf_counter()
            index.persona(vector, top_k=settings.top_k, temperature=settings.temperature)
            attention.append(time.perf_counter() - start)
        p99 = percentile_ms(attention, 99)
        print(
            f"persona vector (attention, top-{settings.top_k}, {len(index)} paragraphs): "
            f"p50 {percentile_ms(attention, 50):.2f} ms, p99 {p99:.2f} ms "
            f"(target p99 <= 20 ms: {'met' if p99 <= 20 else 'NOT met'})"
        )
        end_to_end = []
        for context in contexts[:100]:
            start = time.perf_counter()
            index.persona_for_text(context, embedder, top_k=settings.top_k, temperature=settings.temperature)
            end_to_end.append(time.perf_counter() - start)
        print(
            f"persona vector with the context embedded by MiniLM (300-character context): "
            f"p50 {percentile_ms(end_to_end, 50):.1f} ms, p99 {percentile_ms(end_to_end, 99):.1f} ms"
        )
        mean_start = time.perf_counter()
        index.mean_persona()
        print(f"context-free (mean) persona: {(time.perf_counter() - mean_start) * 1e6:.0f} us (precomputed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

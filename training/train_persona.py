"""Recipe: the persona LoRA — the base learns to continue the author's own writing.

    python -m pushkin.training.train_persona --config persona corpus.folders=[~/writing]
    accelerate launch --config_file training/accelerate/fsdp.yaml -m pushkin.training.train_persona --config ...

Reads top to bottom: config → the author's corpus (plain-text folders, English and Russian) as
continuation pairs (preceding text → next paragraph), split by source with no near-duplicates across the
split → base + LoRA (r=64, alpha=128 by default) → train (loss on the paragraph) → save into the
registry as ``persona-<name>`` (kind persona).

With ``projector.enabled`` (the default) the PersonaPlug projector trains jointly with the LoRA: each
passage's persona vector (its preceding text's embedding attending over the author's other passages, as
the runtime does) becomes ``projector.tokens`` soft tokens in front of the passage, and the projector is
saved beside the LoRA (``persona_projector.safetensors``), where ComposedModel picks it up.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pushkin.model.registry import AdapterKind, AdapterManifest
from pushkin.persona.embedding import Embedder, SentenceTransformerEmbedder
from pushkin.persona.projector import PROJECTOR_CONFIG, PROJECTOR_WEIGHTS, save_projector

from . import data as textdata
from . import loop, persona_plug, text
from .config import PersonaConfig, load_config
from .plots import plot_history

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None, embedder: Embedder | None = None) -> Path:
    """Train and save; ``embedder`` replaces the configured ``projector.embedder`` (tests pass a loaded one)."""
    config = load_config(PersonaConfig, argv)
    loop.default_threads()
    accelerator = loop.make_accelerator(config.run)
    corpus = config.corpus

    # Data: the author's paragraphs as continuation pairs, split by source.
    if corpus.jsonl:
        examples = textdata.read_examples(corpus.jsonl)
    else:
        examples = textdata.continuation_examples(textdata.read_corpus(corpus.folders),
                                                  context_chars=corpus.context_chars,
                                                  completion_chars=corpus.completion_chars)
    split = textdata.split_by_source(examples, eval_fraction=corpus.eval_fraction, seed=config.run.seed,
                                     near_duplicate=corpus.near_duplicate_threshold)
    if not split.train or not split.eval:
        raise textdata.DataError(f"the corpus gave {len(split.train)} train and {len(split.eval)} eval examples; "
                                 f"add more writing")
    log.info("persona data: %d train, %d eval, %d near-duplicates dropped", len(split.train), len(split.eval),
             split.dropped_near_duplicates)

    # Model: the frozen base and one new LoRA.
    loaded = text.load_for_training(config.model, config.run)
    tokenizer = loaded.tokenizer
    name = config.registry.name or "me"
    manifest = AdapterManifest(name=name, kind=AdapterKind.PERSONA, base_model=config.model.base, rank=config.lora.r,
                               description=f"persona LoRA, {len(split.train)} training passages")
    peft = text.attach_lora(loaded.model, config.lora, manifest.peft_name)
    encoded_train = [text.encode_example(tokenizer, e, config.model.max_length) for e in split.train]
    encoded_eval = [text.encode_example(tokenizer, e, config.model.max_length) for e in split.eval]
    pad_id = tokenizer.pad_token_id

    # The PersonaPlug projector: per passage, the persona from the author's other passages.
    projector = None
    if config.projector.enabled:
        embedder = embedder or SentenceTransformerEmbedder(config.projector.embedder)
        train_personas, eval_personas = persona_plug.passage_personas(
            split.train, split.eval, embedder, top_k=config.projector.top_k, temperature=config.projector.temperature)
        encoded_train = persona_plug.with_personas(encoded_train, train_personas)
        encoded_eval = persona_plug.with_personas(encoded_eval, eval_personas)
        projector = persona_plug.new_projector(
            config.projector, persona_dim=train_personas.shape[1], hidden_size=loaded.model.config.hidden_size,
            embed_scale=persona_plug.embedding_scale(peft), embedding_model=embedder.model_id, seed=config.run.seed)

    groups: list[dict[str, Any]] = [{"params": list(peft.parameters())}]
    if projector is not None:
        groups.append({"params": list(projector.parameters()), "lr": config.projector.lr})
    optimizer = loop.make_optimizer(groups, config.optim)
    scheduler = loop.make_scheduler(optimizer, config.optim, config.run.max_steps)
    if projector is not None:
        peft, projector, optimizer = accelerator.prepare(peft, projector, optimizer)
    else:
        peft, optimizer = accelerator.prepare(peft, optimizer)
    device = accelerator.device

    def batches(start: int):
        return text.collated_batches(encoded_train, config.run, pad_id, start)

    def loss_fn(batch):
        loss, count = text.token_loss(peft, batch, device, projector)
        return loss / max(count, 1)

    def eval_fn() -> float:
        return text.mean_loss(peft, encoded_eval, pad_id, device, config.run.batch_size, config.run.eval_batches,
                              projector)

    # Train.
    initial_eval = eval_fn()
    modules = {"model": peft} if projector is None else {"model": peft, "projector": projector}
    history = loop.train(accelerator=accelerator, run=config.run, modules=modules, optimizer=optimizer,
                         scheduler=scheduler, batches=batches, loss_fn=loss_fn, eval_fn=eval_fn,
                         grad_clip=config.optim.grad_clip, tag=f"persona-{name}")
    if not history.resumed_from:
        history.eval.insert(0, (0, initial_eval))

    # Save into the registry, with the eval split beside the run (for `evaluate kind=persona`).
    folder = text.save_to_registry(accelerator, peft, manifest.peft_name, config.registry.root, manifest)
    if accelerator.is_main_process:
        if projector is not None:
            save_projector(accelerator.unwrap_model(projector), folder)
        else:
            # A projector from an earlier run was trained with another LoRA: it must not pair with this one.
            for stale in (PROJECTOR_WEIGHTS, PROJECTOR_CONFIG):
                (folder / stale).unlink(missing_ok=True)
        out = Path(config.run.output_dir)
        textdata.write_jsonl(out / "eval.jsonl", split.eval)
        history.save(out / "history.json")
        plot_history(history, out / "curves.png", title="persona LoRA")
    return folder


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    main(sys.argv[1:])

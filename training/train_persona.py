"""Recipe: the persona LoRA — the base learns to continue the author's own writing.

    python -m pushkin.training.train_persona --config training/configs/persona.yaml corpus.folders=[~/writing]
    accelerate launch --config_file training/accelerate/fsdp.yaml -m pushkin.training.train_persona --config ...

Reads top to bottom: config → the author's corpus (plain-text folders, English and Russian) as
continuation pairs (preceding text → next paragraph), split by source with no near-duplicates across the
split → base + LoRA (r=64, alpha=128 by default) → train (loss on the paragraph) → save into the
registry as ``persona-<name>`` (kind persona).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Sequence

from pushkin.model.registry import AdapterKind, AdapterManifest

from . import data as textdata
from . import loop, text
from .config import PersonaConfig, load_config
from .plots import plot_history

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> Path:
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

    optimizer = loop.make_optimizer([{"params": list(peft.parameters())}], config.optim)
    scheduler = loop.make_scheduler(optimizer, config.optim, config.run.max_steps)
    peft, optimizer = accelerator.prepare(peft, optimizer)
    device = accelerator.device

    def batches(start: int):
        stream = textdata.iter_batches(encoded_train, config.run.batch_size, seed=config.run.seed)
        for _ in range(start * config.run.grad_accum):
            next(stream)
        for batch in stream:
            yield text.collate(batch, pad_id)

    def loss_fn(batch):
        loss, count = text.token_loss(peft, batch, device)
        return loss / max(count, 1)

    def eval_fn() -> float:
        return text.mean_loss(peft, encoded_eval, pad_id, device, config.run.batch_size, config.run.eval_batches)

    # Train.
    initial_eval = eval_fn()
    history = loop.train(accelerator=accelerator, run=config.run, modules={"model": peft}, optimizer=optimizer,
                         scheduler=scheduler, batches=batches, loss_fn=loss_fn, eval_fn=eval_fn,
                         grad_clip=config.optim.grad_clip, tag=f"persona-{name}")
    if not history.resumed_from:
        history.eval.insert(0, (0, initial_eval))

    # Save into the registry, with the eval split beside the run (for `evaluate kind=persona`).
    folder = text.save_to_registry(accelerator, peft, manifest.peft_name, config.registry.root, manifest)
    if accelerator.is_main_process:
        out = Path(config.run.output_dir)
        textdata.write_jsonl(out / "eval.jsonl", split.eval)
        history.save(out / "history.json")
        plot_history(history, out / "curves.png", title="persona LoRA")
    return folder


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    main(sys.argv[1:])

"""Recipe: a task LoRA (continue, rephrase, formal, ...) on prompt/completion pairs.

    python -m pushkin.training.train_task --config task_rephrase run.max_steps=500
    accelerate launch --config_file training/accelerate/fsdp.yaml -m pushkin.training.train_task --config ...

Reads top to bottom: config → data (split by source) → base + LoRA → train (loss on the completion) →
save into the adapter registry as ``task-<name>`` (kind task), where the runtime finds it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pushkin.model.registry import AdapterKind, AdapterManifest
from pushkin.text_lora.tasks import completion_end, get_task

from . import data as textdata
from . import loop, text
from .config import TaskConfig, load_config, to_dict
from .plots import plot_history

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> Path:
    config = load_config(TaskConfig, argv)
    task = get_task(config.task)  # an unknown task fails here, before anything loads
    loop.default_threads()
    accelerator = loop.make_accelerator(config.run)

    # Data: prompt/completion JSONL; eval isolated by source when no eval file is given.
    examples = textdata.read_examples(config.data.train)
    if config.data.eval:
        train_set, eval_set = examples, textdata.read_examples(config.data.eval)
    else:
        split = textdata.split_by_source(examples, eval_fraction=config.data.eval_fraction, seed=config.run.seed,
                                         near_duplicate=config.data.near_duplicate_threshold)
        train_set, eval_set = list(split.train), list(split.eval)
    if not train_set or not eval_set:
        raise textdata.DataError(f"{config.data.train}: the split left {len(train_set)} train and "
                                 f"{len(eval_set)} eval examples")

    # Model: the frozen base and one new LoRA.
    loaded = text.load_for_training(config.model, config.run)
    tokenizer = loaded.tokenizer
    name = config.registry.name or config.task
    manifest = AdapterManifest(name=name, kind=AdapterKind.TASK, base_model=config.model.base, rank=config.lora.r,
                               task=config.task, description=f"task LoRA for {config.task!r}, "
                                                             f"{len(train_set)} training examples")
    peft = text.attach_lora(loaded.model, config.lora, manifest.peft_name)
    end = completion_end(task)  # the blank line the few-shot prompt's results end with
    encoded_train = [text.encode_example(tokenizer, e, config.model.max_length, end) for e in train_set]
    encoded_eval = [text.encode_example(tokenizer, e, config.model.max_length, end) for e in eval_set]
    pad_id = tokenizer.pad_token_id

    optimizer = loop.make_optimizer([{"params": list(peft.parameters())}], config.optim)
    scheduler = loop.make_scheduler(optimizer, config.optim, config.run.max_steps)
    peft, optimizer = accelerator.prepare(peft, optimizer)
    device = accelerator.device

    def batches(start: int):
        return text.collated_batches(encoded_train, config.run, pad_id, start)

    def loss_fn(batch):
        loss, count = text.token_loss(peft, batch, device)
        return loss / max(count, 1)

    def eval_fn() -> float:
        return text.mean_loss(peft, encoded_eval, pad_id, device, config.run.batch_size, config.run.eval_batches)

    # Train.
    initial_eval = eval_fn()
    history = loop.train(accelerator=accelerator, run=config.run, modules={"model": peft}, optimizer=optimizer,
                         scheduler=scheduler, batches=batches, loss_fn=loss_fn, eval_fn=eval_fn,
                         grad_clip=config.optim.grad_clip, tag=f"task-{name}")
    if not history.resumed_from:
        history.eval.insert(0, (0, initial_eval))

    # Save into the registry, with the curves beside the run.
    folder = text.save_to_registry(accelerator, peft, manifest.peft_name, config.registry.root, manifest)
    if accelerator.is_main_process:
        history.save(Path(config.run.output_dir) / "history.json")
        plot_history(history, Path(config.run.output_dir) / "curves.png", title=f"task LoRA: {config.task}")
        (Path(config.run.output_dir) / "config.yaml").write_text(_yaml(to_dict(config)))
        log.info("saved %s (eval loss %.3f -> %.3f)", folder, history.eval[0][1], history.eval[-1][1])
    return folder


def _yaml(data: dict) -> str:
    import yaml

    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    main(sys.argv[1:])

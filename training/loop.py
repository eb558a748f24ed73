"""The parts every recipe's training loop shares: accelerator, optimizer, schedule, checkpoints, logging.

A recipe builds its model and batches, then calls :func:`train` with a ``loss_fn(batch) -> loss`` and an
optional ``eval_fn() -> float``; :func:`train` runs the steps under :mod:`accelerate` (so the same recipe
runs unchanged under ``accelerate launch`` on several GPUs, data parallel or FSDP), clips gradients, steps
the cosine schedule, shows a progress bar, writes TensorBoard scalars, saves resumable checkpoints and
returns the :class:`History`. Checkpoints hold only the trained parameters (safetensors) and the
optimizer/scheduler state (loaded with ``weights_only=True``), never the frozen base.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from .config import OptimSettings, RunSettings

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
TRAINABLE_FILE = "trainable.safetensors"
STATE_FILE = "state.pt"


@dataclass
class History:
    """Losses by step, written to ``history.json`` in the output folder."""

    train: list[tuple[int, float]] = field(default_factory=list)
    eval: list[tuple[int, float]] = field(default_factory=list)
    lr: list[tuple[int, float]] = field(default_factory=list)
    resumed_from: int = 0
    seconds: float = 0.0
    steps_per_second: float = 0.0

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> History:
        data = json.loads(path.read_text())
        return cls(train=[tuple(x) for x in data["train"]], eval=[tuple(x) for x in data["eval"]],
                   lr=[tuple(x) for x in data["lr"]], resumed_from=data.get("resumed_from", 0),
                   seconds=data.get("seconds", 0.0), steps_per_second=data.get("steps_per_second", 0.0))


def resolve_precision(run: RunSettings) -> str:
    """"no", "bf16" or "fp16" for accelerate: auto = bf16 on a GPU that supports it, else full precision."""
    if run.precision == "auto":
        return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "no"
    if run.precision in ("bf16", "fp16") and not torch.cuda.is_available():
        log.warning("precision %s asked for without a GPU: training in fp32", run.precision)
        return "no"
    return {"fp32": "no"}.get(run.precision, run.precision)


def base_dtype(run: RunSettings) -> str:
    """The dtype to load the frozen base in: bf16 under bf16 mixed precision, else float32."""
    return "bfloat16" if resolve_precision(run) == "bf16" else "float32"


def wants_gradient_checkpointing(run: RunSettings) -> bool:
    return run.gradient_checkpointing == "on" or (run.gradient_checkpointing == "auto" and torch.cuda.is_available())


def make_accelerator(run: RunSettings):
    from accelerate import Accelerator
    from accelerate.utils import ProjectConfiguration, set_seed

    out = Path(run.output_dir)
    accelerator = Accelerator(
        mixed_precision=resolve_precision(run),
        gradient_accumulation_steps=run.grad_accum,
        log_with="tensorboard" if run.tensorboard else None,
        project_config=ProjectConfiguration(project_dir=str(out), logging_dir=str(out / "tensorboard")),
    )
    set_seed(run.seed)
    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
    return accelerator


def make_optimizer(groups: list[dict], optim: OptimSettings) -> torch.optim.Optimizer:
    """AdamW over parameter groups (each a dict with "params" and optionally its own "lr")."""
    groups = [g for g in groups if any(p.requires_grad for p in g["params"])]
    for g in groups:
        g["params"] = [p for p in g["params"] if p.requires_grad]
        g.setdefault("lr", optim.lr)
    if not groups:
        raise ValueError("nothing to train: no parameter requires a gradient")
    return torch.optim.AdamW(groups, lr=optim.lr, betas=(optim.betas[0], optim.betas[1]), weight_decay=optim.weight_decay)


def make_scheduler(optimizer: torch.optim.Optimizer, optim: OptimSettings, total_steps: int):
    """Linear warmup over ``warmup_ratio`` of the steps, then a cosine down to ``min_lr_ratio``."""
    warmup = max(1, int(optim.warmup_ratio * total_steps)) if optim.warmup_ratio > 0 else 0

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
        return optim.min_lr_ratio + (1.0 - optim.min_lr_ratio) * cosine

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def trainable_state(modules: dict[str, torch.nn.Module]) -> dict[str, torch.Tensor]:
    """The parameters that require gradients, named ``<module>.<param>``."""
    state = {}
    for prefix, module in modules.items():
        for name, param in module.named_parameters():
            if param.requires_grad:
                state[f"{prefix}.{name}"] = param.detach().float().cpu().contiguous()
    return state


def load_trainable_state(modules: dict[str, torch.nn.Module], state: dict[str, torch.Tensor]) -> None:
    params = {f"{prefix}.{name}": p for prefix, m in modules.items() for name, p in m.named_parameters()}
    missing = [k for k, p in params.items() if p.requires_grad and k not in state]
    if missing:
        raise ValueError(f"checkpoint lacks {len(missing)} trained parameters (e.g. {missing[0]}): "
                         f"was it written by another config?")
    with torch.no_grad():
        for key, value in state.items():
            if key not in params:
                raise ValueError(f"checkpoint has a parameter this model lacks: {key}")
            params[key].copy_(value.to(params[key].dtype))


def latest_checkpoint(output_dir: str | Path) -> Path | None:
    folder = Path(output_dir) / CHECKPOINTS
    done = sorted(p for p in folder.glob("step-*") if (p / STATE_FILE).is_file()) if folder.is_dir() else []
    return done[-1] if done else None


def save_checkpoint(accelerator, output_dir: str | Path, step: int, modules: dict[str, torch.nn.Module],
                    optimizer, scheduler, history: History, keep: int) -> Path:
    from safetensors.torch import save_file

    folder = Path(output_dir) / CHECKPOINTS / f"step-{step:07d}"
    unwrapped = {k: accelerator.unwrap_model(m) for k, m in modules.items()}
    if accelerator.is_main_process:
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        save_file(trainable_state(unwrapped), str(tmp / TRAINABLE_FILE))
        torch.save({"step": step, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "python_rng": repr(random.getstate()), "torch_rng": torch.get_rng_state()}, tmp / STATE_FILE)
        history.save(tmp / "history.json")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)  # a checkpoint is either complete or absent
        old = sorted(p for p in folder.parent.glob("step-*") if p.is_dir() and not p.name.endswith(".tmp"))
        for stale in old[:-keep]:
            shutil.rmtree(stale, ignore_errors=True)
    accelerator.wait_for_everyone()
    return folder


def restore_checkpoint(folder: Path, modules: dict[str, torch.nn.Module], optimizer, scheduler) -> tuple[int, History]:
    from safetensors.torch import load_file

    load_trainable_state(modules, load_file(str(folder / TRAINABLE_FILE)))
    state = torch.load(folder / STATE_FILE, weights_only=True)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    history = History.load(folder / "history.json") if (folder / "history.json").is_file() else History()
    return int(state["step"]), history


def train(
    *,
    accelerator,
    run: RunSettings,
    modules: dict[str, torch.nn.Module],
    optimizer: torch.optim.Optimizer,
    scheduler,
    batches: Callable[[int], Iterator],
    loss_fn: Callable[[object], torch.Tensor],
    eval_fn: Callable[[], float] | None = None,
    grad_clip: float = 1.0,
    on_step: Callable[[int], None] | None = None,
    max_steps: int | None = None,
    tag: str = "train",
) -> History:
    """Run the steps; see the module docstring.

    ``modules``: the modules that hold trained parameters, by name (already passed through
    ``accelerator.prepare`` with the optimizer). ``batches(start_step)``: an iterator of batches from that
    step on (so a resumed run sees the batches it would have seen). ``on_step(step)`` runs before each
    step (the audio recipe switches stages there). Resumes from the newest checkpoint when ``run.resume``.
    """
    total = max_steps or run.max_steps
    history = History()
    start = 0
    if run.resume:
        found = latest_checkpoint(run.output_dir)
        if found is not None:
            start, history = restore_checkpoint(found, {k: accelerator.unwrap_model(m) for k, m in modules.items()},
                                                optimizer, scheduler)
            history.resumed_from = start
            log.info("resumed from %s (step %d)", found, start)
    if accelerator.is_main_process and run.tensorboard:
        accelerator.init_trackers(tag)
    params = [p for m in modules.values() for p in m.parameters() if p.requires_grad]
    for m in modules.values():
        m.train()
    progress = None
    if run.progress and accelerator.is_local_main_process:
        from tqdm.auto import tqdm

        progress = tqdm(total=total, initial=start, desc=tag, dynamic_ncols=True)
    began = time.perf_counter()
    iterator = batches(start)
    step = start
    while step < total:
        if on_step is not None:
            on_step(step)
        loss_sum = 0.0
        for _ in range(run.grad_accum):
            batch = next(iterator)
            with accelerator.accumulate(*modules.values()):
                loss = loss_fn(batch)
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(params, grad_clip)
                optimizer.step()
                scheduler.step() if accelerator.sync_gradients else None
                optimizer.zero_grad(set_to_none=True)
            loss_sum += float(loss.detach())
        step += 1
        train_loss = loss_sum / run.grad_accum
        lr = scheduler.get_last_lr()[0]
        history.train.append((step, train_loss))
        history.lr.append((step, lr))
        scalars = {f"{tag}/loss": train_loss, f"{tag}/lr": lr}
        if eval_fn is not None and run.eval_every and (step % run.eval_every == 0 or step == total):
            for m in modules.values():
                m.eval()
            with torch.no_grad():
                value = float(eval_fn())
            for m in modules.values():
                m.train()
            history.eval.append((step, value))
            scalars[f"{tag}/eval_loss"] = value
        if run.tensorboard:
            accelerator.log(scalars, step=step)
        if progress is not None:
            progress.update(1)
            progress.set_postfix(loss=f"{train_loss:.3f}", **({"eval": f"{history.eval[-1][1]:.3f}"} if history.eval else {}))
        if run.save_every and step % run.save_every == 0 and step < total:
            save_checkpoint(accelerator, run.output_dir, step, modules, optimizer, scheduler, history,
                            run.keep_checkpoints)
    elapsed = time.perf_counter() - began
    history.seconds += elapsed
    done = step - start
    history.steps_per_second = done / elapsed if elapsed > 0 and done else history.steps_per_second
    if progress is not None:
        progress.close()
    save_checkpoint(accelerator, run.output_dir, step, modules, optimizer, scheduler, history, run.keep_checkpoints)
    if accelerator.is_main_process:
        history.save(Path(run.output_dir) / f"history-{tag}.json")
    if run.tensorboard:
        accelerator.end_training()
    return history


def default_threads() -> None:
    """CPU threads from $PUSHKIN_TRAIN_THREADS when set; otherwise torch's own choice is kept.

    On a shared machine, more threads than free cores make tiny models ten times slower (threads spin
    waiting for each other), so tests pin one thread and a busy laptop can ask for fewer.
    """
    wanted = int(os.environ.get("PUSHKIN_TRAIN_THREADS", "0") or 0)
    if wanted > 0:
        torch.set_num_threads(wanted)

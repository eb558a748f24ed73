"""Recipe: the audio adapter — frozen Whisper encoder → projector (+ silence tokens) → Gemma (+ LoRA).

    python -m pushkin.training.train_audio --config audio
    accelerate launch --config_file training/accelerate/fsdp.yaml -m pushkin.training.train_audio --config ...

Reads top to bottom:

1. config, manifests (checked), the frozen encoder;
2. each utterance → VAD pieces (the daemon's segmenter) → encoder frames, cached (the encoder is frozen);
3. the base with a LoRA, a projector and silence vectors; prompts built exactly as the runtime's
   speech-LLM path builds them (:class:`pushkin.model.speech.SpeechLLM`), the target line after them;
4. train: the first ``projector_steps`` steps move only the projector and silence vectors (the LoRA is
   frozen), then the LoRA joins (when ``train_lora``); the loss covers only the target line; with
   ``distill_weight`` > 0 part of it is the KL to the text path's distributions (the frozen base reading
   the spoken words as text, the manifest's ``transcript``/``text``), as Ultravox trains;
5. save into the registry as ``audio-<name>`` with ``projector.safetensors`` and ``silence.safetensors``.
"""

from __future__ import annotations

import logging
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from pushkin.audio_lora.projector import AudioProjector, ProjectorConfig, SilenceEmbedding
from pushkin.audio_lora.splice import AudioSpan, Silence, build_prompt_ids, splice_embeddings
from pushkin.model import tokens
from pushkin.model.loading import embed_scale
from pushkin.model.registry import AdapterKind, AdapterManifest
from pushkin.model.speech import SPEECH_INSTRUCTION, AudioParts

from . import audio_data, loop, text
from .config import AudioConfig, load_config
from .plots import plot_history

log = logging.getLogger(__name__)

PROMPT_HEAD = f"{tokens.START_OF_TURN}user\n{SPEECH_INSTRUCTION}"
PROMPT_TAIL = f"{tokens.END_OF_TURN}\n{tokens.START_OF_TURN}model\n"


@dataclass(frozen=True)
class AudioExample:
    """One utterance ready for the model: prompt+target ids, labels, and its audio pieces' frames."""

    input_ids: tuple[int, ...]
    labels: tuple[int, ...]
    frames: tuple[torch.Tensor, ...]  # one (T_i, C) per speech piece, in prompt order
    # The text path's view, for distillation: ``<bos> head <spoken words> tail target <end_of_turn>``.
    teacher_ids: tuple[int, ...] = ()
    teacher_labels: tuple[int, ...] = ()


def prepare_example(utterance: audio_data.EncodedUtterance, tokenizer, ids: tokens.SpecialTokenIds,
                    silence: SilenceEmbedding, stack_factor: int, teacher: bool = False) -> AudioExample:
    """Token ids of ``<bos> head [audio…|silence]… tail target <end_of_turn>``; labels only on the target.

    With ``teacher`` the example also carries the text path's ids, the spoken words in place of the audio
    (the utterance must have them: ValueError otherwise).
    """
    from pushkin.audio_lora.projector import projected_length

    prompt: list = [PROMPT_HEAD]
    frames = []
    for piece in utterance.pieces:
        if isinstance(piece, Silence):
            prompt.append(piece)
        else:
            frames.append(piece)
            prompt.append(AudioSpan(projected_length(piece.shape[0], stack_factor)))
    prompt.append(PROMPT_TAIL)
    prompt_ids = build_prompt_ids(tokenizer, prompt, audio_token_id=ids.audio, silence_token_ids=ids.silence,
                                  bucket_of=silence.bucket, bos_token_id=ids.bos)
    target_ids = tokenizer(utterance.target, add_special_tokens=False).input_ids + [ids.end_of_turn]
    teacher_ids: list[int] = []
    teacher_labels: list[int] = []
    if teacher:
        if not utterance.spoken:
            raise ValueError(f"utterance from {utterance.source!r} has no spoken words ('transcript' or 'text')")
        teacher_prompt = build_prompt_ids(tokenizer, [PROMPT_HEAD + utterance.spoken + PROMPT_TAIL],
                                          audio_token_id=ids.audio, silence_token_ids=ids.silence,
                                          bucket_of=silence.bucket, bos_token_id=ids.bos)
        teacher_ids, teacher_labels = teacher_prompt + target_ids, [-100] * len(teacher_prompt) + target_ids
    return AudioExample(tuple(prompt_ids + target_ids), tuple([-100] * len(prompt_ids) + target_ids), tuple(frames),
                        tuple(teacher_ids), tuple(teacher_labels))


def padded_rows(rows: Sequence[tuple[Sequence[int], Sequence[int]]], pad_id: int, device):
    """Right-padded ``input_ids``, ``attention_mask`` and ``labels`` ``(B, L)`` from (ids, labels) rows."""
    length = max(len(ids) for ids, _ in rows)
    input_ids = torch.full((len(rows), length), pad_id, dtype=torch.long, device=device)
    mask = torch.zeros((len(rows), length), dtype=torch.long, device=device)
    labels = torch.full((len(rows), length), -100, dtype=torch.long, device=device)
    for i, (ids, row_labels) in enumerate(rows):
        input_ids[i, : len(ids)] = torch.tensor(ids, device=device)
        mask[i, : len(ids)] = 1
        labels[i, : len(ids)] = torch.tensor(row_labels, device=device)
    return input_ids, mask, labels


def audio_batch_embeds(batch: Sequence[AudioExample], model, projector: AudioProjector, silence: SilenceEmbedding,
                       ids: tokens.SpecialTokenIds, pad_id: int, device):
    """Spliced ``inputs_embeds (B, L, D)``, ``attention_mask (B, L)`` and ``labels (B, L)`` for a batch.

    Every speech piece of every row goes through the projector as its own row (zero-padded, which the
    projector's own last-group padding matches), then each row's pieces are joined in order.
    """
    k = projector.config.stack_factor
    pieces = [f for e in batch for f in e.frames]
    longest = max(p.shape[0] for p in pieces)
    stacked = torch.zeros(len(pieces), longest, pieces[0].shape[1], device=device)
    for i, p in enumerate(pieces):
        stacked[i, : p.shape[0]] = p.to(device)
    projected = projector(stacked.to(projector.linear_in.weight.dtype))  # (P, ceil(longest/K), D)
    per_row, cursor = [], 0
    for e in batch:
        rows = []
        for f in e.frames:
            rows.append(projected[cursor, : -(-f.shape[0] // k)])
            cursor += 1
        per_row.append(torch.cat(rows, dim=0))
    lengths = [r.shape[0] for r in per_row]
    audio = torch.zeros(len(batch), max(lengths), projected.shape[-1], device=device, dtype=projected.dtype)
    for i, r in enumerate(per_row):
        audio[i, : r.shape[0]] = r

    input_ids, mask, labels = padded_rows([(e.input_ids, e.labels) for e in batch], pad_id, device)
    embedding = model.get_input_embeddings()
    embeds = splice_embeddings(input_ids, embedding(input_ids), audio_token_id=ids.audio, audio_embeds=audio,
                               audio_lengths=lengths, silence_token_ids=ids.silence,
                               silence_table=silence.table.weight, scale=embed_scale(model))
    return embeds, mask, labels


def target_loss(model, embeds, mask, labels) -> tuple[torch.Tensor, int]:
    """Summed cross-entropy over the target tokens only, and their count."""
    logits, targets = text.target_logits(model, labels, inputs_embeds=embeds, attention_mask=mask)
    return torch.nn.functional.cross_entropy(logits, targets, reduction="sum"), int(targets.numel())


def distill_loss(student: torch.Tensor, teacher: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Summed KL(teacher || student) over rows of ``(N, V)`` logits, times T² (which keeps the gradients'
    size the same whatever the temperature); the teacher gets no gradient."""
    log_student = torch.log_softmax(student.float() / temperature, dim=-1)
    log_teacher = torch.log_softmax(teacher.detach().float() / temperature, dim=-1)
    kl = torch.nn.functional.kl_div(log_student, log_teacher, log_target=True, reduction="sum")
    return kl * temperature ** 2


def teacher_target_logits(model, base, batch: Sequence[AudioExample], pad_id: int, device) -> torch.Tensor:
    """The text path's ``(N, V)`` logits over the batch's target tokens: ``base`` (the unwrapped PeftModel)
    with its adapters off reads the spoken words as text; the forward goes through ``model`` (the
    accelerate-prepared one, which may shard the weights)."""
    input_ids, mask, labels = padded_rows([(e.teacher_ids, e.teacher_labels) for e in batch], pad_id, device)
    with torch.no_grad(), base.disable_adapter():
        return text.target_logits(model, labels, input_ids=input_ids, attention_mask=mask)[0]


class AudioModules(torch.nn.Module):
    """The projector and silence vectors as one module, so accelerate/FSDP wrap and save them together."""

    def __init__(self, projector: AudioProjector, silence: SilenceEmbedding) -> None:
        super().__init__()
        self.projector = projector
        self.silence = silence


def main(argv: Sequence[str] | None = None) -> Path:
    config = load_config(AudioConfig, argv)
    loop.default_threads()
    accelerator = loop.make_accelerator(config.run)
    out = Path(config.run.output_dir)

    # Data: manifests → VAD pieces → frozen encoder frames (cached).
    train_records = audio_data.read_manifest(config.data.train)
    eval_records = audio_data.read_manifest(config.data.eval)
    encoder = audio_data.open_encoder(config.encoder)
    cache = config.data.cache_dir or str(out / "features")
    encoded_train = audio_data.encode_records(train_records, encoder, cache, config.encoder)
    encoded_eval = audio_data.encode_records(eval_records, encoder, cache, config.encoder)

    # Model: the frozen base with a LoRA, the projector and the silence vectors.
    loaded = text.load_for_training(config.model, config.run)
    tokenizer = loaded.tokenizer
    ids = tokens.special_token_ids(tokenizer)
    hidden = loaded.hidden_size
    name = config.registry.name or "speech"
    manifest = AdapterManifest(name=name, kind=AdapterKind.AUDIO, base_model=config.model.base, rank=config.lora.r,
                               description=f"audio adapter: {len(encoded_train)} utterances, encoder {config.encoder}")
    peft = text.attach_lora(loaded.model, config.lora, manifest.peft_name)
    torch.manual_seed(config.run.seed)
    parts = AudioModules(AudioProjector(ProjectorConfig(input_dim=encoder.output_dim, output_dim=hidden,
                                                        stack_factor=config.stack_factor)),
                         SilenceEmbedding(tokens.SILENCE_BUCKETS_S, hidden))
    with torch.no_grad():
        # Silence vectors start on the scale of the (unscaled) embedding rows they sit among.
        parts.silence.table.weight.normal_(0.0, float(loaded.model.get_input_embeddings().weight.std()))
    distill = config.distill_weight > 0
    if distill:
        unspoken = sorted({u.source for u in encoded_train if not u.spoken})
        if unspoken:
            raise audio_data.ManifestError(
                f"{config.data.train}: distillation (distill_weight > 0) needs the spoken words of every "
                f"utterance ('transcript' or 'text'); none in {len(unspoken)} source(s): {', '.join(unspoken[:5])}")
    train_set = [prepare_example(u, tokenizer, ids, parts.silence, config.stack_factor, teacher=distill)
                 for u in encoded_train]
    eval_set = [prepare_example(u, tokenizer, ids, parts.silence, config.stack_factor) for u in encoded_eval]
    lora_params = [p for p in peft.parameters() if p.requires_grad]
    optimizer = loop.make_optimizer([{"params": list(parts.parameters()), "lr": config.projector_lr},
                                     {"params": lora_params, "lr": config.optim.lr}], config.optim)
    scheduler = loop.make_scheduler(optimizer, config.optim, config.run.max_steps)
    peft, parts, optimizer = accelerator.prepare(peft, parts, optimizer)
    device = accelerator.device
    pad_id = tokenizer.pad_token_id

    def batches(start: int):
        rng = random.Random(config.run.seed * 7919 + start)
        while True:
            yield rng.sample(train_set, min(config.run.batch_size, len(train_set)))

    def set_stage(step: int) -> None:
        # Stage 1 (projector first): the LoRA stays frozen; stage 2: it trains too (when asked).
        lora_on = config.train_lora and step >= config.projector_steps
        for p in lora_params:
            p.requires_grad_(lora_on)

    def loss_fn(batch):
        audio = accelerator.unwrap_model(parts)
        base = accelerator.unwrap_model(peft)
        embeds, mask, labels = audio_batch_embeds(batch, base, audio.projector, audio.silence, ids, pad_id, device)
        student, targets = text.target_logits(peft, labels, inputs_embeds=embeds, attention_mask=mask)
        count = max(int(targets.numel()), 1)
        loss = torch.nn.functional.cross_entropy(student, targets, reduction="sum") / count
        if not distill:
            return loss
        teacher = teacher_target_logits(peft, base, batch, pad_id, device)
        kl = distill_loss(student, teacher, config.distill_temperature) / count
        return (1 - config.distill_weight) * loss + config.distill_weight * kl

    def eval_fn() -> float:
        audio = accelerator.unwrap_model(parts)
        total, count = 0.0, 0
        for start in range(0, len(eval_set), config.run.batch_size):
            embeds, mask, labels = audio_batch_embeds(eval_set[start:start + config.run.batch_size],
                                                      accelerator.unwrap_model(peft), audio.projector,
                                                      audio.silence, ids, pad_id, device)
            loss, n = target_loss(peft, embeds, mask, labels)
            total, count = total + float(loss), count + n
        return total / max(count, 1)

    # Train.
    history = loop.train(accelerator=accelerator, run=config.run, modules={"model": peft, "audio": parts},
                         optimizer=optimizer, scheduler=scheduler, batches=batches, loss_fn=loss_fn,
                         eval_fn=eval_fn, grad_clip=config.optim.grad_clip, on_step=set_stage, tag=f"audio-{name}")

    # Save: the LoRA in the registry format, the projector and silence vectors beside it.
    for p in lora_params:
        p.requires_grad_(True)
    folder = text.save_to_registry(accelerator, peft, manifest.peft_name, config.registry.root, manifest)
    if accelerator.is_main_process:
        from pushkin.model.speech import save_audio_parts

        audio = accelerator.unwrap_model(parts)
        save_audio_parts(folder, AudioParts(audio.projector, audio.silence))
        history.save(out / "history.json")
        plot_history(history, out / "curves.png", title="audio adapter")
    accelerator.wait_for_everyone()
    return folder


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    main(sys.argv[1:])

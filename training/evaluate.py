"""evaluate: an adapter against the base model, with a JSON report and a plot.

    python -m pushkin.training.evaluate kind=task adapter=adapters/task-rephrase data=eval.jsonl model.base=...
    python -m pushkin.training.evaluate kind=audio adapter=adapters/audio-speech data=heldout.jsonl encoder=...
    python -m pushkin.training.evaluate kind=persona adapter=adapters/persona-me data=eval.jsonl corpus_folders=[~/writing]

* task: greedy outputs with the adapter and with the base alone (the adapter disabled) on the same
  prompts; ROUGE-1/2/L, BLEU, exact match and Jaccard against the references.
* persona: the same text metrics, plus the persona work's style metrics (composite and components) of
  both outputs against a profile of the author's corpus.
* audio: the held-out manifest through the runtime's own speech-LLM path (VAD pieces → encoder →
  projector → composed Gemma → output-language line, :class:`pushkin.model.speech.SpeechLLM`); WER, CER
  and exact match of the lines against the targets.

Writes ``report.json`` and ``report.png`` into ``output_dir``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .config import EvaluateConfig, load_config

log = logging.getLogger(__name__)


def _composed(base: str, adapter: str | Path):
    """A ComposedModel holding only ``adapter`` (through a one-entry registry)."""
    from pushkin.model.composed import ComposedModel
    from pushkin.model.loading import LoadOptions, load_base
    from pushkin.model.registry import AdapterRegistry, read_adapter

    entry = read_adapter(adapter)  # a clear error when the folder is not a registry adapter
    root = Path(tempfile.mkdtemp(prefix="pushkin-eval-"))
    (root / Path(adapter).name).symlink_to(Path(adapter).resolve(), target_is_directory=True)
    loaded = load_base(LoadOptions(model=base, device="auto", dtype="auto"))
    return ComposedModel(loaded, AdapterRegistry(root)), entry


def generate_pair(base: str, adapter: str | Path, prompts: Sequence[str], max_new_tokens: int,
                  end_at_turn: bool = True) -> tuple[list[str], list[str]]:
    """Greedy outputs for ``prompts`` with the adapter active and with the base alone."""
    from pushkin.model.generation import SamplingOptions, stream_text

    composed, entry = _composed(base, adapter)
    options = SamplingOptions(max_new_tokens=max_new_tokens, temperature=0.0, min_p=0.0)
    peft = composed.peft
    if peft is None:
        raise RuntimeError(f"the adapter in {adapter} did not load onto {base}: {composed.load_problems}")
    peft.base_model.set_adapter([entry.manifest.peft_name])
    tuned = [("".join(stream_text(peft, composed.tokenizer, input_ids=composed.encode(p), options=options))).strip()
             for p in prompts]
    with peft.disable_adapter():
        baseline = [("".join(stream_text(peft, composed.tokenizer, input_ids=composed.encode(p),
                                         options=options))).strip() for p in prompts]
    return tuned, baseline


def evaluate_text(config: EvaluateConfig) -> dict:
    from . import data, metrics

    examples = data.read_examples(config.data)[: config.max_examples]
    prompts = [e.prompt for e in examples]
    references = [e.completion for e in examples]
    tuned, baseline = generate_pair(config.model.base, config.adapter, prompts, config.max_new_tokens)
    report = {
        "kind": config.kind,
        "examples": len(examples),
        "adapter": dataclasses.asdict(metrics.text_scores(tuned, references)),
        "base": dataclasses.asdict(metrics.text_scores(baseline, references)),
        "samples": [{"prompt": p[-200:], "reference": r, "adapter": t, "base": b}
                    for p, r, t, b in list(zip(prompts, references, tuned, baseline))[:5]],
    }
    if config.kind == "persona":
        report["style"] = style_report(config, tuned, baseline)
    return report


def style_weights_without_embeddings():
    from pushkin.persona.metrics import StyleWeights

    # Alignment and continuity need the sentence embedder and a persona vector: off here.
    return StyleWeights(alignment=0.0, ngram_match=0.25, ttr=0.15, mtld=0.1, sentence_lengths=0.15, generic=0.1,
                        novelty=0.1, compression=0.15, continuity=0.0)


def style_report(config: EvaluateConfig, tuned: Sequence[str], baseline: Sequence[str]) -> dict:
    """Mean style composite and components (persona work's metrics) of both outputs vs the author's corpus."""
    from pushkin.persona.metrics import StyleProfile, score_style

    from .data import paragraphs, read_corpus

    if not config.corpus_folders:
        raise ValueError("a persona evaluation needs corpus_folders=[...] (the author's writing)")
    corpus = [p for text in read_corpus(config.corpus_folders).values() for p in paragraphs(text)]
    profile = StyleProfile.from_texts(corpus)
    weights = style_weights_without_embeddings()

    def mean_scores(texts: Sequence[str]) -> dict:
        scored = [score_style(t, profile, weights=weights) for t in texts if t.strip()]
        if not scored:
            return {"composite": 0.0}
        out = {"composite": sum(s.composite for s in scored) / len(scored)}
        for key in scored[0].components:
            out[key] = sum(s.components[key] for s in scored) / len(scored)
        return out

    return {"adapter": mean_scores(tuned), "base": mean_scores(baseline)}


def evaluate_audio(config: EvaluateConfig) -> dict:
    from pushkin.model.output_language import format_output
    from pushkin.model.speech import SpeechLLM

    from . import audio_data, metrics

    records = audio_data.read_manifest(config.data)[: config.max_examples]
    composed, _ = _composed(config.model.base, config.adapter)
    encoder = audio_data.open_encoder(config.encoder)
    speech = SpeechLLM(composed, encoder)
    lines, targets, rejected = [], [], 0
    for record in records:
        pieces = audio_data.record_pieces(record)
        heard = speech.hear(pieces, max_new_tokens=config.max_new_tokens)
        if heard.output is None:
            rejected += 1
            lines.append(heard.raw_line)
        else:
            lines.append(format_output(heard.output))
        targets.append(record.target)
    scores = metrics.speech_scores(lines, targets)
    return {
        "kind": "audio",
        "utterances": len(records),
        "adapter": dataclasses.asdict(scores),
        "outside_output_language": rejected,
        "samples": [{"target": t, "heard": h} for t, h in list(zip(targets, lines))[:10]],
    }


def main(argv: Sequence[str] | None = None) -> dict:
    config = load_config(EvaluateConfig, argv)
    report = evaluate_audio(config) if config.kind == "audio" else evaluate_text(config)
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    from .plots import plot_bars

    if config.kind == "audio":
        groups = {"adapter": {k: report["adapter"][k] for k in ("wer", "cer", "exact_match")}}
    else:
        keys = ("rouge1", "rouge2", "rougeL", "bleu", "exact_match", "jaccard")
        groups = {name: {k: report[name][k] for k in keys} for name in ("base", "adapter")}
        if "style" in report:
            for name in ("base", "adapter"):
                groups[name]["style"] = report["style"][name]["composite"]
    plot_bars(groups, out / "report.png", title=f"{config.kind}: {Path(config.adapter).name}")
    log.info("wrote %s", out / "report.json")
    return report


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(json.dumps(main(sys.argv[1:]), ensure_ascii=False, indent=1))

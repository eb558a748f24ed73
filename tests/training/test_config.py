"""Typed configs: YAML + key=value overrides, defaults from the design, clear errors."""

from __future__ import annotations

import pytest

from pushkin.training.config import (
    AudioConfig,
    ConfigError,
    DpoConfig,
    EvaluateConfig,
    ExportConfig,
    PersonaConfig,
    RewardConfig,
    TaskConfig,
    load_config,
)

from .conftest import CONFIGS


def test_defaults_follow_the_design():
    config = load_config(TaskConfig, ["data.train=x.jsonl"])
    assert (config.lora.r, config.lora.alpha, config.lora.dropout) == (64, 128, 0.05)
    assert config.optim.lr == 2e-4 and config.optim.betas == (0.9, 0.95) and config.optim.grad_clip == 1.0
    assert config.optim.warmup_ratio > 0
    assert config.run.precision == "auto" and config.run.gradient_checkpointing == "auto"


def test_yaml_then_overrides(tmp_path):
    config = load_config(TaskConfig, [str(CONFIGS / "task_tiny.yaml"), "data.train=a.jsonl", "lora.r=4",
                                      "optim.betas=[0.8, 0.99]", "run.tensorboard=false", "optim.lr=1e-3"])
    assert config.task == "rephrase"  # from the YAML
    assert config.lora.r == 4 and config.lora.alpha == 16  # override beats YAML; YAML beats default
    assert config.optim.betas == (0.8, 0.99)
    assert config.optim.lr == 1e-3 and config.run.tensorboard is False
    assert load_config(TaskConfig, ["--config", str(CONFIGS / "task_tiny.yaml"), "data.train=a"]).task == "rephrase"


@pytest.mark.parametrize("cls, path", [(TaskConfig, "task_tiny.yaml"), (PersonaConfig, "persona_tiny.yaml"),
                                       (AudioConfig, "audio_tiny.yaml"), (RewardConfig, "reward_tiny.yaml"),
                                       (DpoConfig, "dpo_tiny.yaml")])
def test_every_test_yaml_validates(cls, path):
    fill = {TaskConfig: ["data.train=x"], PersonaConfig: ["corpus.folders=[a]"],
            AudioConfig: ["data.train=t", "data.eval=e", "encoder=w"], RewardConfig: ["data.train=p"],
            DpoConfig: ["data.prompts=p"]}[cls]
    assert isinstance(load_config(cls, [str(CONFIGS / path), *fill]), cls)


@pytest.mark.parametrize("argv, message", [
    (["data.train=x", "lora.rank=8"], "unknown key 'rank' in [lora]"),
    (["data.train=x", "lora.r=eight"], "lora.r must be an integer"),
    (["data.train=x", "lora.r=0"], "lora.r must be >= 1"),
    (["data.train=x", "lora.dropout=1.5"], "lora.dropout must be in [0, 1)"),
    (["data.train=x", "optim.betas=[0.9]"], "optim.betas must have 2 items"),
    (["data.train=x", "run.precision=fp8"], "run.precision must be auto, bf16, fp16 or fp32"),
    (["data.train=x", "task=re phrase"], "task must be a plain name"),
    ([], "data.train must name a JSONL file"),
    (["data.train=x", "bogus"], "unexpected argument 'bogus'"),
    (["missing.yaml"], "missing.yaml: no such settings file"),
])
def test_bad_configs_say_what_is_wrong(argv, message):
    with pytest.raises(ConfigError) as error:
        load_config(TaskConfig, argv)
    assert message in str(error.value)


def test_cross_field_checks():
    with pytest.raises(ConfigError, match="projector_steps .* must not exceed run.max_steps"):
        load_config(AudioConfig, ["data.train=t", "data.eval=e", "projector_steps=10", "run.max_steps=5"])
    with pytest.raises(ConfigError, match="candidates must be >= 2"):
        load_config(DpoConfig, ["data.prompts=p", "candidates=1"])
    with pytest.raises(ConfigError, match="an audio evaluation needs encoder"):
        load_config(EvaluateConfig, ["kind=audio", "adapter=a", "data=d"])
    with pytest.raises(ConfigError, match="adapters must name at least one"):
        load_config(ExportConfig, [])


def test_bad_yaml_is_reported(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("lora: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(TaskConfig, [str(bad)])
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(TaskConfig, [str(listed)])


@pytest.mark.parametrize("name, cls", [("persona", PersonaConfig), ("task_rephrase", TaskConfig),
                                       ("task_continue", TaskConfig), ("audio", AudioConfig),
                                       ("reward", RewardConfig), ("dpo", DpoConfig)])
def test_shipped_configs_validate(name, cls):
    from pathlib import Path

    import pushkin.training

    path = Path(pushkin.training.__file__).parent / "configs" / f"{name}.yaml"
    extra = ["corpus.folders=[writing]"] if cls is PersonaConfig else []
    config = load_config(cls, [str(path), *extra])
    if hasattr(config, "lora"):
        assert config.lora.r == 64 and config.lora.alpha == 128

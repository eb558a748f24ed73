# Every target sets up first (scripts/setup.sh is quick when nothing changed).
VENV ?= .venv
PY := $(VENV)/bin/python

# The real-weights tier's models, fetched once into the models folder ($PUSHKIN_MODELS_DIR, else
# ~/.local/share/pushkin/models) and verified; tests never download. Gemma's terms: https://ai.google.dev/gemma/terms
REAL_MODELS := whisper-base whisper-tiny.en piper-joe gemma-3-270m

# `make models` fetches the default recognizer (setup does too); `make models MODELS="whisper-tiny.en piper-joe"` others.
MODELS ?= whisper-base

.PHONY: setup run models test test-real models-real proto bench lint

setup:
	@scripts/setup.sh

run: setup
	$(VENV)/bin/pushkin serve

models: setup
	$(VENV)/bin/pushkin models fetch $(MODELS)

models-real: setup
	$(VENV)/bin/pushkin models fetch --accept-terms $(REAL_MODELS)

lint: setup
	PY=$(PY) scripts/lint.sh

test: models-real lint
	$(PY) -m pytest -q

test-real: models-real
	$(PY) -m pytest -q tests/real

proto: setup
	$(PY) -m pushkin.proto.generate

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

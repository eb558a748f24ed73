# Every target sets up first (scripts/setup.sh is quick when nothing changed).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup run test test-fast proto bench

setup:
	@scripts/setup.sh

run: setup
	$(VENV)/bin/pushkin serve

test: setup
	$(PY) -m pytest -q

proto: setup
	$(PY) -m pushkin.proto.generate

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

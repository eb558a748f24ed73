#!/usr/bin/env bash
# ruff and mypy over the whole tree, as CI runs them (`make lint`; `make test` runs it first).
#
# The top-level folders install as `pushkin.<folder>` (setup.py), a mapping a type checker cannot follow
# through the editable install's import hook; a link tree build/typecheck/pushkin/<folder> -> <folder>
# gives mypy (and an IDE pointed at build/typecheck) the real names. Folder links, so a new file needs no step.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"

links=build/typecheck/pushkin
mkdir -p "$links"
# The folders setup.py installs (its TOP_LEVEL list is the one list of them).
folders=$("$PY" -c 'import ast
tree = ast.parse(open("setup.py").read())
print(" ".join(next(ast.literal_eval(node.value) for node in tree.body
                    if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "TOP_LEVEL")))')
for folder in $folders; do
  ln -sfn "../../../$folder" "$links/$folder"
done

"$PY" -m ruff check .
"$PY" -m mypy

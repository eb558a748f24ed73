"""Regenerate the Python code for the gRPC contract: ``python -m pushkin.proto.generate``.

The .proto file sits at ``proto/v1/pushkin.proto`` in the repository but is compiled under the virtual
path ``pushkin/proto/v1/pushkin.proto``, so the generated modules import each other as
``pushkin.proto.v1`` — the namespace the package is installed under. ``--check`` compares instead of
writing, and exits 1 when the committed code is stale.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parent
PROTO_FILES = ["v1/pushkin.proto"]
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def generate_into(out_dir: Path) -> list[Path]:
    """Run protoc into ``out_dir``; returns the generated files (relative to the package root)."""
    try:
        from grpc_tools import protoc  # the `proto` extra, pinned with grpcio
    except ImportError as error:
        raise SystemExit(f"{error}: install the proto extra: pip install -e '.[proto]'") from None

    import importlib.resources

    well_known = str(importlib.resources.files("grpc_tools") / "_proto")
    args = [
        "grpc_tools.protoc",
        f"-Ipushkin/proto={PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
    ] + [f"pushkin/proto/{name}" for name in PROTO_FILES]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed; see the messages above")
    package_out = out_dir / "pushkin" / "proto"
    return sorted(p.relative_to(package_out) for p in package_out.rglob("*") if p.name.endswith(GENERATED_SUFFIXES))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the committed code is stale")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        files = generate_into(out)
        stale = []
        for rel in files:
            fresh = out / "pushkin" / "proto" / rel
            committed = PROTO_ROOT / rel
            if not committed.exists() or not filecmp.cmp(fresh, committed, shallow=False):
                stale.append(rel)
                if not args.check:
                    shutil.copyfile(fresh, committed)
        if args.check and stale:
            print("stale generated code: " + ", ".join(map(str, stale)) + "; run python -m pushkin.proto.generate",
                  file=sys.stderr)
            return 1
        if not args.check:
            print(f"generated {len(files)} files ({len(stale)} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

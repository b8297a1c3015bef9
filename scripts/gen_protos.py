"""Regenerates the Python contract code from protos/ into soundloop/ (the only place it lives).

Run after every .proto change; CI runs it with --check and fails on stale output.
Generated files are never edited by hand.
"""
from __future__ import annotations

import argparse
import filecmp
import pathlib
import shutil
import sys
import tempfile

import grpc_tools
from grpc_tools import protoc

ROOT = pathlib.Path(__file__).resolve().parents[1]
PROTOS = ROOT / "protos"
WELL_KNOWN = pathlib.Path(grpc_tools.__file__).parent / "_proto"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def generate(out: pathlib.Path) -> None:
    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    args = ["protoc", f"-I{PROTOS}", f"-I{WELL_KNOWN}", f"--python_out={out}",
            f"--pyi_out={out}", f"--grpc_python_out={out}", *sources]
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    # Packages of generated code need __init__.py so that `soundloop.v1` imports.
    for source in sources:
        for parent in pathlib.Path(source).parents:
            if str(parent) != ".":
                (out / parent / "__init__.py").touch()


def generated_files(tree: pathlib.Path) -> set[str]:
    return {str(p.relative_to(tree)) for p in tree.rglob("*") if p.name.endswith(GENERATED_SUFFIXES)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed code is stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = pathlib.Path(tmp)
        generate(fresh)
        wanted = generated_files(fresh)
        if args.check:
            have = generated_files(ROOT) - {f for f in generated_files(ROOT) if not f.startswith("soundloop/")}
            stale = sorted(f for f in wanted
                           if not (ROOT / f).exists() or not filecmp.cmp(fresh / f, ROOT / f, shallow=False))
            stale += sorted(have - wanted)
            if stale:
                sys.exit("generated code is stale, run scripts/gen_protos.py:\n  " + "\n  ".join(stale))
            print(f"generated code is fresh ({len(wanted)} files)")
            return
        for rel in sorted(wanted):
            dest = ROOT / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(fresh / rel, dest)
            init = dest.parent / "__init__.py"
            init.touch()
        print(f"wrote {len(wanted)} files under soundloop/")


if __name__ == "__main__":
    main()

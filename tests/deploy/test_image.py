"""The image recipe against the repo: a builder stage apart from the runtime, no compilers or torch in
the runtime image, models assembled at build time, a numeric non-root user, and every COPY source
present and not kept out by .dockerignore. Each check has a negative twin.
"""
from __future__ import annotations

import re

import image_checks as images
import manifest_checks as mc
import pytest

pytestmark = pytest.mark.unit

DOCKERFILE = (mc.REPO / "deploy/docker/Dockerfile").read_text()
DOCKERIGNORE = (mc.REPO / ".dockerignore").read_text()


def _dockerfile_stage_problems(stage: dict, global_args: list[str], ignore) -> list[str]:
    """Variables declared in the stage that uses them; COPY sources present and not dockerignored."""
    problems = []
    declared = {a.split("=")[0] for k, a in stage["instructions"] if k == "ARG"}
    declared |= {m for k, a in stage["instructions"] if k == "ENV" for m in re.findall(r"(\w+)=", a)}
    for keyword, args in stage["instructions"]:
        for var in re.findall(r"\$\{?(\w+)", args):
            if var not in declared | {"PATH", "HOME"} and keyword in ("RUN", "ENV", "COPY", "WORKDIR"):
                problems.append(f"Dockerfile {stage['name']}: ${var} is not declared in this stage"
                                + (" (a global ARG must be re-declared after FROM)" if var in global_args else ""))
        if keyword != "COPY" or "--from" in args:
            continue
        for source in (s for s in args.split()[:-1] if not s.startswith("--")):
            if not (mc.REPO / source).exists():
                problems.append(f"Dockerfile: COPY source {source} does not exist")
            elif images.is_dockerignored(source, ignore):
                problems.append(f"Dockerfile: COPY source {source} is excluded by .dockerignore")
    return problems


def dockerfile_problems(text: str, dockerignore: str) -> list[str]:
    problems = []
    global_args, stages = images.dockerfile_stages(text)
    names = {s["name"]: s for s in stages}
    runtime = stages[-1]
    if "builder" not in names or runtime["name"] == "builder":
        problems.append("Dockerfile: needs a `builder` stage and a separate final runtime stage")
    builder_env = " ".join(a for k, a in names.get("builder", {}).get("instructions", []) if k == "ENV")
    for flag in ("-DGGML_NATIVE=OFF", "-DGGML_AVX2=ON", "-DGGML_FMA=ON", "-DGGML_F16C=ON"):
        if flag not in builder_env:
            problems.append(f"Dockerfile builder: CMAKE_ARGS lacks {flag} (portable llama.cpp)")
    runtime_run = " ".join(a for k, a in runtime["instructions"] if k == "RUN")
    for tool in ("build-essential", "gcc", "g++", "cmake", "clang", "git"):
        if re.search(rf"apt-get install[^&;]*\s{re.escape(tool)}(\s|$)", runtime_run):
            problems.append(f"Dockerfile runtime: installs {tool}; compilers belong in the builder")
    for package in ("espeak-ng", "flite", "libsndfile1", "wget"):
        if not re.search(rf"apt-get install[^&;]*\s{re.escape(package)}(\s|$)", runtime_run):
            problems.append(f"Dockerfile runtime: does not install {package}")
    if "pip install" not in runtime_run or "--no-index" not in runtime_run:
        problems.append("Dockerfile runtime: pip install must use --no-index (only the builder's wheels)")
    # The images install the requirement files the Dockerfile copies; torch is for training only
    # (requirements/train.txt), never in an image.
    image_files = sorted({f for f in re.findall(r"requirements/(\w+\.txt)", text)})
    requirements = "\n".join((mc.REPO / "requirements" / f).read_text() for f in image_files)
    installs = " ".join(a for s in stages for k, a in s["instructions"] if k == "RUN" and "pip " in a)
    listed = re.search(r"^\s*torch", requirements, re.MULTILINE | re.IGNORECASE)
    if "train.txt" in image_files or listed or re.search(r"pip (install|wheel)[^&;]*\btorch", installs):
        problems.append("torch is listed for installation: no image needs it")
    ignore = images.dockerignore_patterns(dockerignore)
    for stage in stages:
        problems += _dockerfile_stage_problems(stage, global_args, ignore)
    assemble = [s for s in stages if any("assemble_models.py --profile" in a for _, a in s["instructions"])]
    copied = {a.split()[-1] for k, a in runtime["instructions"] if k == "COPY" and any(
        f"--from={s['name']}" in a for s in assemble)}
    models_dir = re.search(r"SOUNDLOOP_MODELS_DIR=(\S+)", " ".join(a for k, a in runtime["instructions"] if k == "ENV"))
    if not assemble or not models_dir or models_dir.group(1) not in copied:
        problems.append("Dockerfile: models must be assembled at build time and copied to SOUNDLOOP_MODELS_DIR")
    users = [a for k, a in runtime["instructions"] if k == "USER"]
    if not users or not re.fullmatch(r"[1-9]\d*(:\d+)?", users[-1]):
        problems.append("Dockerfile runtime: runs as root or a named user (runAsNonRoot needs a numeric uid)")
    return problems


def test_dockerfile_and_dockerignore():
    assert dockerfile_problems(DOCKERFILE, DOCKERIGNORE) == []
    patterns = images.dockerignore_patterns(DOCKERIGNORE)
    for heavy in ("models", ".venv", "node_modules", "tests", "bench-out", ".git"):
        assert images.is_dockerignored(f"{heavy}/x", patterns), f".dockerignore should exclude {heavy}/"


def test_dockerfile_check_catches_drift():
    broken = DOCKERFILE.replace("espeak-ng flite libsndfile1 wget", "espeak-ng flite libsndfile1 wget gcc")
    broken = broken.replace('-DGGML_NATIVE=OFF ', "")
    broken = broken.replace("FROM ${PYTHON_IMAGE} AS models\nARG PROFILE=default", "FROM ${PYTHON_IMAGE} AS models")
    broken = broken.replace("USER 1000", "USER root")
    problems = dockerfile_problems(broken, DOCKERIGNORE + "\nservices/\n")
    for needle in ("installs gcc", "GGML_NATIVE", "$PROFILE is not declared", "runs as root", "services is excluded"):
        assert any(needle in p for p in problems), (needle, problems)

"""Before/after: the soundloop benchmark on two revisions in one invocation, and a
table of what changed beyond noise.

    python -m bench.compare --base 4f957bf --quick                 # base commit vs this working tree, both profiles
    python -m bench.compare --base 4f957bf --quick --rounds 2      # twice each, ABBA order, samples pooled
    python -m bench.compare --base HEAD~3 --head HEAD --profile light --only turn-

What runs. Each side is `python -m bench.run --systems soundloop --soundloop-modes M
--no-load --profile P [--quick] [--only ...]`, one profile per subprocess, interleaved: base light, head
light, base default, head default; with --rounds N the order inside a profile flips
every round (base-head, head-base, ...), so slow drift of a noisy machine hits both
sides. Results land in DIR/base/<profile>-<round>/ and DIR/head/<profile>-<round>/
(results.json, report.md, run.log, stage logs); the comparison in DIR/compare.md,
also printed. M is --mode: process (default; soundloop's servers as plain processes,
the only mode bench.run had before it ran Ray Serve too, so any base revision has it;
for a tree whose bench.run has no --soundloop-modes the flag is left out and its
`soundloop` results are that mode) or serve (the Ray Serve app; both trees' bench.run
must have it).

Which code runs. --base (and --head when it names a revision rather than a folder)
is checked out with `git worktree add --detach` into a temporary folder, removed
afterwards, also on Ctrl-C or SIGTERM. Without --head, head is this working tree as
it is, uncommitted changes included. Each subprocess gets cwd = its tree and
PYTHONPATH = its tree first, so `bench`, `soundloop` and `services` come from that
tree and not from the editable install in .venv (soundloop.local_stack starts the
stage servers as `python -m services.X.server` with the inherited cwd and
environment, so they do too). Before each run a probe with the same interpreter, cwd
and environment prints where `bench.run` and every `services.X.server` would be
loaded from; the run is refused unless all lie inside the tree. After the run, the
commit in results.json's meta (bench.run takes it from the tree soundloop.models was
imported from) must be the tree's commit, and in a fresh worktree every stage server
must have left bytecode of its modules there (which tells the trees apart even when
base is the commit the working tree sits on). Both sides share the interpreter (.venv),
the assembled models (SOUNDLOOP_MODELS_DIR, as soundloop.models resolves it here) and
the real recordings cached in .cache/bench/moonshine (copied into the worktree).

Metrics and noise judgement: bench/noise_judgement.py (the table of what changed beyond noise).

Exit status: 0 once both sides ran, whatever the table says (it is for humans); 1
when a run failed, could not be shown to run its own tree's code, or git could not
make the worktree; 130 on Ctrl-C.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from bench.noise_judgement import SYSTEM, CompareError, markdown, system_key

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODES = ("process", "serve")
STAGE_SERVERS = ("encoder", "llm", "decider", "tts", "gateway")  # as soundloop.local_stack starts them
PROBE_MODULES = ("bench.run", "soundloop.models", *(f"services.{s}.server" for s in STAGE_SERVERS))
PROBE = ("import importlib.util, json, sys; "
         "print(json.dumps({m: importlib.util.find_spec(m).origin for m in sys.argv[1:]}))")


# ------------------------------------------------------------------------------------------------- the runs

@dataclasses.dataclass
class Tree:
    path: pathlib.Path
    commit: str  # short hash of the tree's HEAD
    description: str
    temporary: bool = False


def _git(*args: str, cwd: pathlib.Path = ROOT) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        raise CompareError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def checkout(rev: str, folder: pathlib.Path) -> Tree:
    commit = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    _git("worktree", "add", "--detach", str(folder), commit)
    short = _git("rev-parse", "--short", "HEAD", cwd=folder)
    moonshine = ROOT / ".cache" / "bench" / "moonshine"  # real recordings, checked by sha256 when made
    if moonshine.is_dir():
        shutil.copytree(moonshine, folder / ".cache" / "bench" / "moonshine")
    name = short if commit.startswith(rev) else f"{rev} = {short}"
    return Tree(folder, short, f"{name} (detached worktree {folder})", temporary=True)


def working_tree(folder: pathlib.Path) -> Tree:
    top = pathlib.Path(_git("rev-parse", "--show-toplevel", cwd=folder))
    short = _git("rev-parse", "--short", "HEAD", cwd=top)
    changed = [line for line in _git("status", "--porcelain", "--untracked-files=no", cwd=top).splitlines() if line]
    dirty = f" + uncommitted changes in {len(changed)} files" if changed else ""
    return Tree(top, short, f"working tree {top} at {short}{dirty}")


def remove(tree: Tree) -> None:
    if not tree.temporary:
        return
    done = subprocess.run(["git", "worktree", "remove", "--force", str(tree.path)], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        shutil.rmtree(tree.path, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)


def child_env(tree: Tree, models: pathlib.Path) -> dict[str, str]:
    env = dict(os.environ, SOUNDLOOP_MODELS_DIR=str(models), PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tree.path), os.environ.get("PYTHONPATH", "")) if p)
    if tree.temporary:  # bytecode in a throwaway worktree is harmless, and it shows who ran from there
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def probe(tree: Tree, env: dict[str, str]) -> dict[str, str]:
    """Where the benchmark and the stage servers would be loaded from, asked with the run's own interpreter,
    cwd and environment; refuses when any lies outside the tree."""
    done = subprocess.run([sys.executable, "-c", PROBE, *PROBE_MODULES], cwd=tree.path,
                          env=dict(env, PYTHONDONTWRITEBYTECODE="1"), capture_output=True, text=True)
    if done.returncode:
        raise CompareError(f"probe in {tree.path} failed: {done.stderr.strip()[-2000:]}")
    origins = json.loads(done.stdout)
    root = tree.path.resolve()
    outside = {m: o for m, o in origins.items() if not o or not pathlib.Path(o).resolve().is_relative_to(root)}
    if outside:
        raise CompareError(f"these would not run from {root}: {outside}")
    return origins


def compiled_stages(tree: Tree) -> set[str]:
    """Stage packages with bytecode of a module other than their __init__ in the tree: in a fresh worktree,
    written only by a stage server that imported its code from there."""
    def compiled(stage: str) -> bool:
        pyc = (tree.path / "services" / stage / "__pycache__").glob("*.pyc")
        return any(not f.name.startswith("__init__.") for f in pyc)

    return {stage for stage in STAGE_SERVERS if compiled(stage)}


def has_modes(tree: Tree) -> bool:
    """Whether the tree's bench.run takes --soundloop-modes (older ones ran process mode only). Read from its
    source: the probe has shown bench.run is imported from the tree."""
    return "--soundloop-modes" in (tree.path / "bench" / "run.py").read_text()


def _stop(proc: subprocess.Popen) -> None:
    """Ctrl-C for the child (bench.run then stops its stage servers and Redis), harder if it does not end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # another Ctrl-C must not cut this short
    for sig, wait_s in ((signal.SIGINT, 60), (signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.communicate(timeout=wait_s)  # drains its output too
        except subprocess.TimeoutExpired:
            pass


def run_side(side: str, tree: Tree, profile: str, round_: int, out: pathlib.Path, args, models: pathlib.Path) -> dict:
    folder = out / side / f"{profile}-{round_}"
    folder.mkdir(parents=True, exist_ok=True)
    env = child_env(tree, models)
    origins = probe(tree, env)
    cmd = [sys.executable, "-m", "bench.run", "--systems", SYSTEM, "--no-load", "--profile", profile,
           "--seed", str(args.seed), "--out", str(folder)]
    if has_modes(tree):
        cmd += ["--soundloop-modes", args.mode]
    elif args.mode != "process":
        raise CompareError(f"{tree.description}: its bench.run runs soundloop in process mode only; use --mode process")
    if args.quick:
        cmd.append("--quick")
    if args.only:
        cmd += ["--only", args.only]
    tag = f"[{side} {profile} {round_}]"
    print(f"{tag} cwd {tree.path}: {' '.join(cmd[1:])}", flush=True)
    print(f"{tag} services.gateway.server -> {origins['services.gateway.server']}", flush=True)
    compiled_before = compiled_stages(tree)
    started = time.monotonic()
    with open(folder / "run.log", "w") as log:
        log.write(json.dumps({"cwd": str(tree.path), "cmd": cmd, "origins": origins}) + "\n")
        # Its own session: a Ctrl-C here reaches it once, from _stop, not twice (terminal + forward).
        proc = subprocess.Popen(cmd, cwd=tree.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, bufsize=1, start_new_session=True)
        try:
            for line in proc.stdout:
                log.write(line)
                print(f"{tag} {line}", end="", flush=True)
            rc = proc.wait()
        except BaseException:
            _stop(proc)
            raise
    if rc:
        raise CompareError(f"{tag} bench.run exited with {rc}; see {folder / 'run.log'}")
    results = json.loads((folder / "results.json").read_text())
    system_key(results, profile, args.mode)  # refuses results without soundloop in that mode
    commit = results["meta"].get("commit", "")
    if not (commit and (commit.startswith(tree.commit) or tree.commit.startswith(commit))):
        raise CompareError(f"{tag} results.json says commit {commit!r}, the tree is at {tree.commit}: "
                           "the run did not use the tree's code")
    print(f"{tag} done in {time.monotonic() - started:.0f} s, results.json commit {commit}", flush=True)
    if tree.temporary and not compiled_before:
        # The commit says bench.run ran from the tree; this says the stage servers it started did too.
        missing = set(STAGE_SERVERS) - compiled_stages(tree)
        if missing:
            raise CompareError(f"{tag} no bytecode written in {tree.path} for services {sorted(missing)}: "
                               "those stage servers did not run the tree's code")
        print(f"{tag} every stage server compiled its modules in {tree.path}", flush=True)
    return results


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="git revision to compare against (checked out in a worktree)")
    parser.add_argument("--head", help="a folder (a checkout, run as it is) or a git revision; "
                                       "default: this working tree as it is, uncommitted changes included")
    parser.add_argument("--profile", action="append", choices=("light", "default"),
                        help="repeatable; default: light and default")
    parser.add_argument("--quick", action="store_true", help="bench.run --quick: 18 scenarios a profile")
    parser.add_argument("--only", default="", help="comma-separated scenario id prefixes, passed to bench.run")
    parser.add_argument("--rounds", type=int, default=1,
                        help="runs per side and profile, pooled (ABBA order); use an even number: with an "
                             "odd one head runs second more often, and a second run can be slower")
    parser.add_argument("--mode", choices=MODES, default="process",
                        help="how soundloop runs on both sides: process (default; any base revision has it) or "
                             "serve (Ray Serve; both trees' bench.run must have --soundloop-modes)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=pathlib.Path,
                        default=ROOT / "bench-out" / f"compare-{time.strftime('%Y%m%d-%H%M%S')}")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    profiles = args.profile or ["light", "default"]
    from soundloop.models import models_dir

    models = models_dir().resolve()
    args.out = args.out.resolve()
    signal.signal(signal.SIGTERM, _interrupt)
    trees: dict[str, Tree] = {}
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="soundloop-compare-"))
    try:
        trees["base"] = checkout(args.base, scratch / "base")
        head_dir = pathlib.Path(args.head) if args.head else ROOT
        trees["head"] = working_tree(head_dir) if head_dir.is_dir() else checkout(args.head, scratch / "head")
        for side, tree in trees.items():
            print(f"{side}: {tree.description}", flush=True)
        runs: dict[str, dict[str, list[dict]]] = {"base": {}, "head": {}}
        for round_ in range(1, args.rounds + 1):
            for profile in profiles:
                order = ("base", "head") if round_ % 2 else ("head", "base")
                for side in order:
                    runs[side].setdefault(profile, []).append(
                        run_side(side, trees[side], profile, round_, args.out, args, models))
        notes = [f"finished {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}; models: {models}",
                 f"runs and logs: {args.out}/{{base,head}}/<profile>-<round>/"]
        text = markdown(runs, {s: t.description for s, t in trees.items()}, notes, args.mode)
        (args.out / "compare.md").write_text(text + "\n")
        print(text, flush=True)
        print(f"written: {args.out / 'compare.md'}", flush=True)
        return 0
    except CompareError as e:
        print(f"bench.compare: {e}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("bench.compare: interrupted", file=sys.stderr, flush=True)
        return 130
    finally:
        # A second Ctrl-C must not leave a worktree behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for tree in trees.values():
            remove(tree)
        shutil.rmtree(scratch, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)


if __name__ == "__main__":
    sys.exit(main())

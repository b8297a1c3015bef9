"""The image recipe, offline: Dockerfile stages and what .dockerignore keeps out of the build context."""
from __future__ import annotations

import pathlib
import re


def dockerfile_stages(text: str) -> tuple[list[str], list[dict]]:
    """(global ARG names, stages) where a stage is {name, base, instructions: [(KEYWORD, args)]}."""
    joined = re.sub(r"\\\n", " ", text)
    global_args, stages = [], []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(stages))
            stages.append({"name": name, "base": words[0], "instructions": []})
        elif not stages:
            if keyword == "ARG":
                global_args.append(args.split("=")[0])
        else:
            stages[-1]["instructions"].append((keyword, args))
    return global_args, stages


def dockerignore_patterns(text: str) -> list[tuple[bool, re.Pattern]]:
    patterns = []
    for raw in text.splitlines():
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        negate = raw.startswith("!")
        pattern = raw.lstrip("!").strip().strip("/")
        regex = ""
        for part in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part))
        patterns.append((negate, re.compile(regex)))
    return patterns


def is_dockerignored(path: str, patterns) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = pathlib.PurePosixPath(path.strip("/")).parts
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for negate, regex in patterns:
        if any(regex.fullmatch(c) for c in candidates):
            ignored = not negate
    return ignored

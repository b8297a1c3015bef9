"""Layering: the kernel (soundloop/) never imports services/, and no stage imports another.

The kernel is what every process shares (contracts, settings, codec, client, CLI);
a stage that needs another stage's code means that code belongs in the kernel.
Only services/app.py, the Serve application builder, composes the stages. Imports
are read with `ast`, so comments, docstrings and a YAML's import_path string do
not count, while relative and function-level imports do.
"""
from __future__ import annotations

import ast
import pathlib

import pytest

pytestmark = pytest.mark.unit

REPO = pathlib.Path(__file__).resolve().parents[2]
STAGES = ("encoder", "llm", "decider", "tts", "gateway")


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Absolute names of every module `source` imports, relative imports resolved."""
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            # `from services import tts` imports services.tts.
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None))
              in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            names.add(node.args[0].value)
    return names


def imports_of(path: pathlib.Path) -> set[str]:
    return imported_modules(path.read_text(), module_name(path), path.name == "__init__.py")


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def forbidden_imports(paths: list[pathlib.Path], packages: list[str]) -> list[str]:
    """`file imports module` for each import of `packages`, not repeating a module's own names."""
    found = []
    for path in paths:
        names = {n for n in imports_of(path) if any(within(n, package) for package in packages)}
        # `from services.tts.clauses import X` also yields services.tts.clauses.X: report the module.
        found += [f"{path.relative_to(REPO)} imports {n}" for n in sorted(names)
                  if not any(n != m and within(n, m) and m not in packages for m in names)]
    return found


def kernel_modules() -> list[pathlib.Path]:
    return sorted(p for p in (REPO / "soundloop").rglob("*.py") if "_pb2" not in p.name)


def test_the_kernel_never_imports_services():
    modules = kernel_modules()
    assert len(modules) > 10, "found too few kernel modules: is REPO right?"
    offenders = forbidden_imports(modules, ["services"])
    assert offenders == [], "move what the kernel needs out of services/:\n" + "\n".join(offenders)


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_never_imports_another_stage(stage):
    others = [f"services.{other}" for other in STAGES if other != stage]
    modules = sorted((REPO / "services" / stage).rglob("*.py"))
    assert modules, f"services/{stage} has no modules"
    offenders = forbidden_imports(modules, others)
    assert offenders == [], "shared code belongs in the kernel (soundloop/):\n" + "\n".join(offenders)


# ---------------------------------------------------------------- the checker itself

@pytest.mark.parametrize("source, found", [
    ("import services.tts.clauses", "services.tts.clauses"),
    ("from services.decider.sound_classes import SOUND_CLASSES", "services.decider.sound_classes"),
    ("from services import tts", "services.tts"),
    ("from ..tts import clauses", "services.tts.clauses"),
    ("def f():\n    from services.llm import chat\n", "services.llm.chat"),
    ("import importlib\nimportlib.import_module('services.app')", "services.app"),
])
def test_the_checker_sees_every_form_of_import(source, found):
    assert found in imported_modules(source, "services.gateway.conversation")


def test_the_checker_ignores_strings_and_comments():
    source = '"""Named in import_path: services.app:build_app."""\n# import services\nPATH = "services.app"\n'
    assert not any(within(n, "services") for n in imported_modules(source, "soundloop.serve_runner"))


def test_relative_imports_resolve_from_a_package_init():
    assert "services.gateway.server" in imported_modules("from .server import Gateway", "services.gateway", True)

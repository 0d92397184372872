"""The core's boundaries: it never imports Prefect, and each public surface is what __all__ says, every name
coming from the module its import names."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import lingong_core

ROOT = Path(__file__).resolve().parents[2]


def test_the_core_never_imports_prefect() -> None:
    modules = sorted(
        "lingong_core." + ".".join(p.relative_to(ROOT / "lingong_core").with_suffix("").parts)
        for p in (ROOT / "lingong_core").rglob("*.py")
        if p.name != "__init__.py"
    )
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + ("bad = sorted(m for m in sys.modules if m == 'prefect' or m.startswith('prefect.'))\nassert not bad, bad\n")
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_public_names_are_exported() -> None:
    for name in lingong_core.__all__:
        assert hasattr(lingong_core, name), name


def _exporting_modules() -> list[Path]:
    packages = (
        "lingong_core",
        "lingong_sandbox",
        "lingong_payroll",
        "lingong_receiver",
        "lingong_store",
        "lingong_cli",
    )
    return sorted(
        path
        for package in packages
        for path in (ROOT / package).rglob("*.py")
        if "__all__" in path.read_text(encoding="utf-8")
    )


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _origins(path: Path, name: str) -> tuple[dict[str, str], set[str]]:
    """What the module's own text says: ``{exported name: module it is imported from}``, and what it defines."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    imported: dict[str, str] = {}
    defined: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - max(node.level - 1, 0)] if node.level else []
            origin = ".".join([*base, node.module] if node.module else base) if node.level else node.module or ""
            for alias in node.names:
                imported[alias.asname or alias.name] = origin
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined.add(node.target.id)
    return imported, defined


def test_each_exported_name_comes_from_the_module_that_says_so() -> None:
    """Every name in an ``__all__`` is defined where its module's import says it is (or in the module itself):
    a re-export of a re-export, or a name the module does not bind, fails."""
    wrong: list[str] = []
    for path in _exporting_modules():
        name = _module_name(path)
        module = importlib.import_module(name)
        imported, defined = _origins(path, name)
        for exported in module.__all__:
            where = name if exported in defined else imported.get(exported)
            if where is None:
                wrong.append(f"{name}.__all__ names {exported}, which {name} neither defines nor imports")
                continue
            value = getattr(module, exported, None)
            home = getattr(value, "__module__", None) if inspect.isclass(value) or inspect.isfunction(value) else None
            if home is not None and home != where:
                wrong.append(f"{name}.{exported} is said to come from {where} but is defined in {home}")
            elif home is None and where != name:
                source = importlib.import_module(where)
                source_path = Path(inspect.getfile(source))
                if exported not in _origins(source_path, where)[1]:
                    wrong.append(f"{name}.{exported} is said to come from {where}, which does not define it")
    assert not wrong, "\n".join(wrong)

"""The core's boundaries: it never imports Prefect, and its public surface is what __all__ says."""

from __future__ import annotations

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

"""scoring/instruments, the calculator command and the pure stages of the pipeline (planning,
compute, the typed scores) are pure Python: no Django (docs/architecture.md, conventions 1)."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTRUMENTS = REPO / "scoring" / "instruments"
PURE_FILES = [
    *sorted(INSTRUMENTS.rglob("*.py")),
    REPO / "scoring" / "calculate.py",
    REPO / "scoring" / "classify.py",
    REPO / "scoring" / "__init__.py",
]
# The pipeline's stages that need no database: they may import the instruments and each other.
PURE_STAGES = ("scoring.planning", "scoring.compute", "scoring.scores")
STAGE_FILES = [REPO / "scoring" / f"{name.removeprefix('scoring.')}.py" for name in PURE_STAGES]
PURE_FILES += STAGE_FILES


def test_importing_the_instruments_loads_no_django():
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    code = (
        "import sys, scoring.instruments, scoring.calculate, scoring.classify\n"
        f"import {', '.join(PURE_STAGES)}\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def imported_modules(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


@pytest.mark.parametrize("path", PURE_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_source_imports_only_the_standard_library_and_itself(path):
    # The instruments know nothing of the pipeline; its pure stages build on the instruments.
    allowed = (
        ("scoring.instruments", *PURE_STAGES) if path in STAGE_FILES else ("scoring.instruments",)
    )
    for module in imported_modules(path):
        top = module.split(".")[0]
        assert top != "django", f"{path.name} imports {module}"
        assert top in sys.stdlib_module_names or module.startswith(allowed), (
            f"{path.name} imports {module}, which is neither the standard library nor "
            f"one of {allowed}"
        )

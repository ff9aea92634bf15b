"""The import contracts (``[tool.importlinter]`` in pyproject.toml, run by ``make test``)
hold for the tree, and fail when a module breaks one: each case copies the application's
packages, adds one forbidden import and runs ``lint-imports`` on the copy."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES: list[str] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
    "root_packages"
]

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="lint-imports not installed")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_tree_keeps_every_contract() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("kernel/broken.py", "import game.models", "The kernel imports no domain"),
        (
            "game/broken.py",
            "import api.deps",
            "Domains never import the HTTP surface, the simulator or the application",
        ),
        (
            "people/broken.py",
            "import evaluation.surveys",
            "Domains in one direction: each imports only those below it",
        ),
        (
            "api/broken.py",
            "import taptrail.runtime",
            "Layers: the application over the HTTP surface over the domains over the kernel",
        ),
        (
            "organising/repository_broken.py",
            "import organising.service",
            "No cycles between the modules of a package",
        ),
    ],
)
def test_a_forbidden_import_breaks_the_build(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    if module == "organising/repository_broken.py":
        # A cycle needs both directions: the service imports this module, which imports it.
        service = tmp_path / "organising" / "service.py"
        service.write_text(service.read_text() + "\nimport organising.repository_broken\n")
    (tmp_path / module).write_text(f'"""Breaks a contract on purpose."""\n\n{line}\n')

    done = lint_imports(tmp_path)

    assert done.returncode != 0, done.stdout
    assert f"{contract} BROKEN" in done.stdout, done.stdout

"""The repository speaks for itself: nothing cites specification files outside it, or a path
of the machine it was written on. Code and tests cite the documentation in ``docs/``."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = re.compile(
    r"(?<![\w/])(?:game-rules|interfaces)\.md|shared/spec|(?<![\w/])/w[o]rk/|(?<![\w/.])\.\./shared"
)


def test_no_file_cites_anything_outside_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    offenders = []
    for name in tracked:
        if name.startswith("tests/docs/test_self_contained.py"):
            continue
        try:
            text = (ROOT / name).read_text(encoding="utf-8")
        except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{name}:{number}: {line.strip()[:100]}")
    assert not offenders, "\n".join(offenders[:20])

"""The built-in demo town: Burnley Beat the Street (demo).

The files beside this module are committed; ``generate.py`` rebuilds them
deterministically (``python -m taptrail.demo.generate``).

- ``burnley-demo.yaml``: a game definition in the format of docs/running-a-game/game-file.md, with fixed
  demo reader secrets so the simulator can sign uploads (real games never ship secrets).
- ``imd-sample.csv``: an *illustrative* IoD2019 "File 7" extract for the demo's LSOAs.
- ``postcodes-sample.csv``: an *illustrative* ONS NSPL extract for the demo's postcodes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DEMO_DIR = Path(__file__).resolve().parent
DEMO_GAME_FILE = DEMO_DIR / "burnley-demo.yaml"
DEMO_IMD_FILE = DEMO_DIR / "imd-sample.csv"
DEMO_POSTCODES_FILE = DEMO_DIR / "postcodes-sample.csv"
DEMO_GAME_SLUG = "burnley-demo"

__all__ = [
    "DEMO_DIR",
    "DEMO_GAME_FILE",
    "DEMO_GAME_SLUG",
    "DEMO_IMD_FILE",
    "DEMO_POSTCODES_FILE",
    "load_demo_definition",
]


def load_demo_definition() -> dict[str, Any]:
    """The demo game definition, parsed with ``yaml.safe_load`` (timestamps become
    timezone-aware ``datetime`` objects, as for any definition file)."""
    with DEMO_GAME_FILE.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):  # pragma: no cover - the committed file is a mapping
        raise ValueError(f"{DEMO_GAME_FILE} does not hold a mapping")
    return data

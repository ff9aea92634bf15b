"""Imports every domain's tables so the metadata (and Alembic) sees them all.

Each domain keeps its tables in its own ``models`` module; add new domains here.
"""

import importlib

from taptrail.db import Base

DOMAIN_MODELS = (
    "game.models",
    "people.models",
    "checkpoints.models",
    "taptrail.auth.models",
    "evaluation.models",
    "taptrail.staff.models",
    "people.family_models",
)

for _name in DOMAIN_MODELS:
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a domain without tables yet
        if exc.name != _name:
            raise

__all__ = ["Base"]

"""Imports every domain's tables so the metadata (and Alembic) sees them all.

The declarative ``Base`` is ``kernel.db.Base``; each domain keeps its tables in its own
``models`` module. A new domain with tables is added here.
"""

import accounts.models
import accounts.staff.models
import checkpoints.models
import evaluation.models
import game.models
import geo.models
import kernel.audit
import people.family_models
import people.models
import scoring.models
from kernel.db import Base

__all__ = ["Base"]

# Imported for their side effect of registering tables on Base.metadata.
_DOMAIN_MODELS = (
    accounts.models,
    accounts.staff.models,
    checkpoints.models,
    evaluation.models,
    game.models,
    geo.models,
    kernel.audit,
    people.models,
    scoring.models,
)

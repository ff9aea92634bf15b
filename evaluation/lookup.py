"""Postcode → LSOA → IMD decile, from the imported lookups (``taptrail import ...``).

Called by ``people.deprivation.derive`` at registration; the postcode itself is not kept.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from evaluation import repository as repo
from evaluation.postcodes import is_plausible_postcode, normalise_postcode
from people.deprivation import Deprivation


async def lookup_deprivation(session: AsyncSession, postcode: str) -> Deprivation | None:
    """The LSOA, IMD decile and nation of a typed postcode, or None when it is not a postcode,
    not in the imported lookup, or its LSOA has no imported deprivation data. Terminated
    postcodes still match, so older addresses keep working."""
    if not is_plausible_postcode(postcode):
        return None
    found = await repo.deprivation_of_postcode(session, normalise_postcode(postcode))
    if found is None:
        return None
    lsoa_code, decile, nation = found
    return Deprivation(status="found", lsoa_code=lsoa_code, imd_decile=decile, nation=nation)

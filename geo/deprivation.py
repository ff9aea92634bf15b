"""From a typed postcode to an LSOA and IMD decile, from the imported lookups (``taptrail
import ...``). Called at registration; the postcode itself is then dropped, never kept."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.models import LsoaArea, PostcodeLookup
from geo.postcodes import is_plausible_postcode, normalise_postcode


@dataclass(frozen=True, slots=True)
class Deprivation:
    status: str  # found | not_found | not_given
    lsoa_code: str | None = None
    imd_decile: int | None = None
    nation: str | None = None


NOT_GIVEN = Deprivation("not_given")
NOT_FOUND = Deprivation("not_found")


async def derive(session: AsyncSession, postcode: str | None) -> Deprivation:
    if not postcode or not postcode.strip():
        return NOT_GIVEN
    found = await lookup_deprivation(session, postcode)
    return found or NOT_FOUND


async def lookup_deprivation(session: AsyncSession, postcode: str) -> Deprivation | None:
    """The LSOA, IMD decile and nation of a typed postcode, or None when it is not a postcode,
    not in the imported lookup, or its LSOA has no imported deprivation data. Terminated
    postcodes still match, so older addresses keep working."""
    if not is_plausible_postcode(postcode):
        return None
    found = await deprivation_of_postcode(session, normalise_postcode(postcode))
    if found is None:
        return None
    lsoa_code, decile, nation = found
    return Deprivation(status="found", lsoa_code=lsoa_code, imd_decile=decile, nation=nation)


async def deprivation_of_postcode(session: AsyncSession, pcds: str) -> tuple[str, int, str] | None:
    """(LSOA code, IMD decile, nation) of a postcode in pcds form, terminated ones included."""
    row = (
        await session.execute(
            select(LsoaArea.code, LsoaArea.imd_decile, LsoaArea.nation)
            .join(PostcodeLookup, PostcodeLookup.lsoa_code == LsoaArea.code)
            .where(PostcodeLookup.pcds == pcds)
        )
    ).first()
    return None if row is None else (row[0], int(row[1]), row[2])

"""From a typed postcode to an LSOA and IMD decile; the postcode itself is then dropped."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession


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
    from evaluation.lookup import lookup_deprivation

    found = await lookup_deprivation(session, postcode)
    return found or NOT_FOUND

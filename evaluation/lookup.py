"""Postcode → LSOA → IMD decile, from the imported lookups."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from people.deprivation import Deprivation


async def lookup_deprivation(session: AsyncSession, postcode: str) -> Deprivation | None:
    # Replaced by the evaluation importers' tables; until then nothing is found.
    return None

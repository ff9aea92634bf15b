"""Loading the reference data: Indices of Deprivation "File 7" and the ONS postcode lookups.

Both importers stream: the pure readers (:mod:`evaluation.imd_import`,
:mod:`evaluation.postcode_import`) yield one row at a time and rows go to the database in
batches (``INSERT ... ON CONFLICT DO UPDATE``, on PostgreSQL and SQLite alike), so memory
stays bounded whatever the file size (the full UK postcode file has about 2.7 million rows).
``after_batch`` is awaited after each batch; the command line commits there, so a long import
holds no long transaction. Nothing here commits on its own.

One deprivation edition per nation is kept: importing IoD2025 for England removes the areas
of other English editions that the file did not replace (LSOA codes changed in 2021; mixing
editions would count residents twice). Players keep the decile they registered with.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from evaluation import repository as repo
from evaluation.csv_source import ImportFileError, ProgressCallback, Source
from evaluation.imd_import import ImdReader
from evaluation.postcode_import import PostcodeLookupReader

__all__ = [
    "BATCH_ROWS",
    "ImportSummary",
    "import_imd",
    "import_postcodes",
    "lsoa_vintage_for",
]

BATCH_ROWS = 5000

AfterBatch = Callable[[int], Awaitable[Any]]

#: IoD edition -> the LSOA codes it uses
_VINTAGE_OF_EDITION = {"2019": "2011", "2025": "2021"}


@dataclass
class ImportSummary:
    kind: str
    rows: int = 0
    batches: int = 0
    errors: list[ImportFileError] = field(default_factory=list)
    error_count: int = 0
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


async def import_imd(
    session: AsyncSession,
    source: Source,
    *,
    edition: str | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: ProgressCallback | None = None,
    after_batch: AfterBatch | None = None,
    replace_other_editions: bool = True,
) -> ImportSummary:
    """Upsert every area of an IoD file into ``lsoa_areas``. Bad lines are skipped and
    listed (each error names its line); a header that is not understood raises
    :class:`ImportFileError` before anything is written."""
    reader = ImdReader(source, progress=progress, edition=edition)
    summary = ImportSummary("imd")
    batch: list[dict[str, Any]] = []

    async def flush() -> None:
        await repo.upsert_lsoa_areas(session, batch)
        summary.rows += len(batch)
        summary.batches += 1
        batch.clear()
        if after_batch is not None:
            await after_batch(summary.rows)

    for row in reader:
        batch.append(
            {
                "code": row.lsoa_code,
                "name": row.lsoa_name,
                "lad_code": row.lad_code,
                "lad_name": row.lad_name,
                "nation": row.nation,
                "edition": row.edition,
                "imd_score": row.imd_score,
                "imd_rank": row.imd_rank,
                "imd_decile": row.imd_decile,
                "population": row.population,
            }
        )
        if len(batch) >= batch_rows:
            await flush()
    if batch:
        await flush()

    summary.errors = list(reader.errors)
    summary.error_count = reader.error_count
    summary.details = {
        "nation": reader.nation,
        "edition": reader.edition,
        "columns": dict(reader.columns),
        "expected_rows": reader.expected_rows,
        "latin1_lines": reader.latin1_lines,
    }
    if reader.nation and reader.edition and replace_other_editions and summary.rows:
        removed = await repo.delete_other_editions(session, reader.nation, reader.edition)
        summary.details["removed_other_editions"] = removed
        if removed:
            summary.notes.append(
                f"removed {removed:,} {reader.nation} areas of other editions "
                f"(one edition per nation is kept)"
            )
    expected = reader.expected_rows
    if expected is not None and summary.rows < expected:
        summary.notes.append(
            f"{summary.rows:,} of the {expected:,} areas of {reader.nation} "
            f"IoD{reader.edition} were in this file"
        )
    return summary


def lsoa_vintage_for(editions: dict[str, str]) -> str | None:
    """The LSOA vintage matching the imported English deprivation edition, if any."""
    edition = editions.get("england")
    return _VINTAGE_OF_EDITION.get(edition) if edition else None


async def import_postcodes(
    session: AsyncSession,
    source: Source,
    *,
    lsoa_vintage: str | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: ProgressCallback | None = None,
    after_batch: AfterBatch | None = None,
) -> ImportSummary:
    """Upsert every postcode of an ONS lookup into ``postcode_lookup`` (terminated ones kept).

    ``lsoa_vintage`` picks the LSOA column (``"2011"`` or ``"2021"``) in a file that has more
    than one; by default the vintage of the imported English IoD edition is used when the
    file has it, otherwise the newest.
    """
    wanted = lsoa_vintage
    automatic = wanted is None
    if automatic:
        wanted = lsoa_vintage_for(await repo.imd_editions(session))
    summary = ImportSummary("postcodes")
    reader = PostcodeLookupReader(source, lsoa_vintage=wanted, progress=progress)
    try:
        iterator = iter(reader)
        first = next(iterator, None)
    except ImportFileError as error:
        if not (automatic and wanted is not None and "LSOA column in this file" in error.reason):
            raise
        summary.notes.append(
            f"the file has no {wanted} LSOA column (the vintage of the imported IoD); "
            "its newest LSOA column is used"
        )
        seek = getattr(source, "seek", None)
        if seek is not None:
            seek(0)
        reader = PostcodeLookupReader(source, progress=progress)
        iterator = iter(reader)
        first = next(iterator, None)

    # A batch is keyed by postcode: PostgreSQL refuses to update one row twice in a statement.
    batch: dict[str, dict[str, Any]] = {}

    async def flush() -> None:
        await repo.upsert_postcodes(session, list(batch.values()))
        summary.rows += len(batch)
        summary.batches += 1
        batch.clear()
        if after_batch is not None:
            await after_batch(summary.rows)

    row = first
    while row is not None:
        batch[row.pcds] = {
            "pcds": row.pcds,
            "lsoa_code": row.lsoa_code,
            "terminated": row.terminated,
        }
        if len(batch) >= batch_rows:
            await flush()
        row = next(iterator, None)
    if batch:
        await flush()

    summary.errors = list(reader.errors)
    summary.error_count = reader.error_count
    summary.details = {
        "columns": dict(reader.columns),
        "lsoa_vintage": reader.lsoa_vintage,
        "terminated": reader.terminated_rows,
        "without_lsoa": reader.rows_without_lsoa,
        "latin1_lines": reader.latin1_lines,
    }
    if reader.rows_without_lsoa:
        summary.notes.append(
            f"{reader.rows_without_lsoa:,} postcodes have no LSOA (or a pseudo code such as "
            "the Channel Islands') and were skipped"
        )
    return summary

"""The evaluator's data package: a Frictionless Data package of the anonymised export.

One folder (or one zip of it) per export, CSV or Parquet alike:

* ``players``, ``daily`` and ``surveys`` (``.csv`` or ``.parquet``), written by
  :mod:`evaluation.exports` (streamed: memory does not grow with the rows);
* ``datapackage.json``: a Table Schema per file (types, units, the allowed codes with their
  meanings, missing-value codes, primary and foreign keys) and, as the custom property
  ``taptrail:anonymisation``, the export manifest (k, bands, every generalisation step with
  the information it lost, suppression counts);
* ``methods.md``: how pseudonyms, bands, generalisation and suppression were done, for the
  evaluator's methods section.

The descriptor is built from the plan (:class:`exports.ExportContext`), so the codes listed
are exactly the codes that can occur in the files.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from evaluation import exports
from evaluation.anonymise import ANY, WIDE_AGE_BANDS
from evaluation.imd_import import NATIONS
from kernel.vocabulary import AGE_BANDS, TEAM_KINDS

__all__ = ["FORMATS", "descriptor", "methods_text", "write_package", "zip_package"]

FORMATS: Final = ("csv", "parquet")
MISSING: Final = [""]
_TYPES: Final = {
    "string": "string",
    "int8": "integer",
    "int32": "integer",
    "float64": "number",
    "date32": "date",
}
_TEAM_KINDS: Final = (*TEAM_KINDS, "none")
_KEYS: Final[dict[str, dict[str, Any]]] = {
    "players": {"primaryKey": ["pseudonym"]},
    "daily": {
        "primaryKey": ["pseudonym", "date"],
        "foreignKeys": [
            {"fields": ["pseudonym"], "reference": {"resource": "players", "fields": ["pseudonym"]}}
        ],
    },
    "surveys": {
        "primaryKey": ["pseudonym", "wave"],
        "foreignKeys": [
            {"fields": ["pseudonym"], "reference": {"resource": "players", "fields": ["pseudonym"]}}
        ],
    },
}
_UNITS: Final = {"distance_km": "km", "nature_score": "scale 1-7"}


def _codes(ctx: exports.ExportContext, file: str, column: str) -> dict[str, str] | None:
    """Allowed codes -> meaning for a coded column, or None for free values."""
    plan = ctx.plan if file == "players" else ctx.daily_plan
    bands = ctx.bands if file == "players" else (ctx.daily_bands or {})
    if plan is not None and column in bands:
        return exports.released_bands(plan, {column: bands[column]})[column]["codes"]
    if file != "players":
        return None
    level = ctx.plan.level_of(column) if column in ctx.plan.quasi_identifiers else 0
    if column == "age_band":
        if level == 0:
            return {band: f"aged {band}" for band in AGE_BANDS}
        if level == 1:
            return {band: f"aged {band}" for band in dict.fromkeys(WIDE_AGE_BANDS.values())}
        return {ANY: "not released (generalised away)"}
    if column == "gender" and level > 0:
        return {ANY: "not released (generalised away)"}
    if column == "team_kind":
        if level > 0:
            return {ANY: "not released (generalised away)"}
        return {kind: "no team" if kind == "none" else f"a {kind} team" for kind in _TEAM_KINDS}
    if column == "imd_nation":
        return {
            n: f"ranked among the small areas of {n.replace('_', ' ').title()}" for n in NATIONS
        }
    return None


def _field(
    ctx: exports.ExportContext, file: str, column: str, kind: str, text: str
) -> dict[str, Any]:
    field: dict[str, Any] = {"name": column, "type": _TYPES[kind], "description": text}
    if column in _UNITS:
        field["unit"] = _UNITS[column]
    codes = _codes(ctx, file, column)
    constraints: dict[str, Any] = {}
    if codes is not None:
        constraints["enum"] = list(codes)
        field["categories"] = [{"value": c, "label": meaning} for c, meaning in codes.items()]
    if column == "imd_quintile":
        constraints.update(minimum=1, maximum=5)
        field["categories"] = [
            {"value": q, "label": f"quintile {q} ({'most' if q == 1 else 'least'} deprived)"}
            if q in (1, 5)
            else {"value": q, "label": f"quintile {q}"}
            for q in range(1, 6)
        ]
    if column == "pseudonym" and file == "players":
        constraints.update(required=True, unique=True, pattern="[0-9a-f]{16}")
    if constraints:
        field["constraints"] = constraints
    return field


def descriptor(ctx: exports.ExportContext, fmt: str, *, generated_on: date) -> dict[str, Any]:
    """``datapackage.json`` of the export (Frictionless Data Package with Table Schemas)."""
    manifest = exports.manifest(ctx, generated_on=generated_on)
    resources = []
    for file in exports.FILES:
        resource: dict[str, Any] = {
            "name": file,
            "path": f"{file}.{fmt}",
            "format": fmt,
            "mediatype": "text/csv" if fmt == "csv" else "application/vnd.apache.parquet",
            "description": {
                "players": "one record per player",
                "daily": "per player per day played",
                "surveys": "per player per survey wave answered",
            }[file],
            "schema": {
                "fields": [_field(ctx, file, *column) for column in exports.COLUMNS[file]],
                # Parquet holds real nulls; readers that go through pandas (frictionless
                # does) show a null integer as NaN
                "missingValues": MISSING if fmt == "csv" else [*MISSING, "nan"],
                **_KEYS[file],
            },
        }
        if fmt == "csv":
            resource["encoding"] = "utf-8"
        resources.append(resource)
    return {
        "name": f"{ctx.game.slug}-{ctx.project.name}",
        "title": f"{ctx.game.name}: anonymised evaluation export ({ctx.project.name})",
        "created": f"{generated_on.isoformat()}T00:00:00Z",
        "licenses": [{"name": "other-closed", "title": "For the evaluation project only"}],
        "resources": resources,
        "taptrail:anonymisation": manifest,
    }


def _steps(plan_manifest: dict[str, Any] | None) -> str:
    if not plan_manifest or not plan_manifest["generalisations"]:
        return "none needed\n"
    return "".join(
        f"{n}. {g['description']} (lost {g['information_loss_bits']} bits per record; records in "
        f"classes smaller than k: {g['records_in_small_classes_before']} -> "
        f"{g['records_in_small_classes_after']})\n"
        for n, g in enumerate(plan_manifest["generalisations"], 1)
    )


def methods_text(ctx: exports.ExportContext) -> str:
    """``methods.md``: how the data were anonymised, with this export's figures."""
    players = ctx.plan.manifest
    daily = ctx.daily_plan.manifest if ctx.daily_plan else None
    k = players["k"]
    daily_line = (
        f"{daily['records_out']:,} of {daily['records_in']:,} day records released, "
        f"{daily['records_suppressed']:,} suppressed."
        if daily
        else "(the daily file was not planned)"
    )
    return f"""# Anonymised exports: methods

Game `{ctx.game.slug}`, evaluation project `{ctx.project.name}`, k = {k}.

## Pseudonyms
Each player appears as a pseudonym: the first 16 hex characters of HMAC-SHA256 of the
player's id under a random key of this project, kept on the server. The same player has the
same pseudonym in every file of this project and a different one in any other project;
nobody without the key can compute a pseudonym from an id.

## What an intruder could know, and k
Anyone can read the public players board (nickname, points, distance) and the team boards,
live. So exact activity figures are never released: every activity measure (taps, legs,
points, distance, active days, survey waves) is released as a band, and every combination of
released values in the players file (age band, gender, IMD quintile and nation, team kind
and the activity bands) is shared by at least k = {k} players. A board entry is therefore
consistent with at least k records, and two projects' files cannot be joined one-to-one on
their columns. The daily file is banded the same way (its own bands, from the daily values)
and every combination of date and bands occurs on at least k day records, so a day's bands
summed over a player's days give a range, not the player's total.

## Bands
Bands are chosen from the data: quantile bands of the positive values (16 to start with),
their edges rounded down to two significant figures; zero is a band of its own; the top band
is open ("230+"). Coarser levels merge neighbouring bands in pairs, then "1+" (played or
not), then "any" (not released). Integer bands "a-b" include both ends; distance bands
"a-b" mean at least a km and less than b km. The codes of each column and their meanings are
listed in `datapackage.json`.

## Generalisation
Whole columns are recoded (never some records only). The IMD quintile and its nation, the
analysis variables, are never generalised. Each step is the one that loses least information
(the Shannon entropy of the column, in bits per record) per record it brings into a class of
k or more; when no single step helps, the cheapest pair that does. Afterwards any step that
turned out unnecessary is undone. Steps applied to the players file:

{_steps(players)}
Steps applied to the daily file:

{_steps(daily)}
## Suppression
Only after every generalisation: players still in classes smaller than k are left out of
all three files; day records still in classes smaller than k are left out of the daily file.
{players["records_out"]:,} of {players["records_in"]:,} players released,
{players["records_suppressed"]:,} suppressed. {daily_line}
A quintile with fewer than k players in the game cannot be released at all.

## Never exported
{", ".join(exports.NEVER_EXPORTED)}.

## Limits
The daily file shows on which dates a pseudonym was active. Someone who recorded the live
board every day knows on which dates a public nickname scored; the banded daily file limits,
but does not rule out, matching such a diary. Keep the files to the project.
"""


async def write_package(
    session: AsyncSession,
    ctx: exports.ExportContext,
    folder: Path,
    fmt: str,
    *,
    generated_on: date,
    progress: Callable[[str], Callable[[int], Any] | None] | None = None,
) -> list[Path]:
    """Write the three files, ``datapackage.json`` and ``methods.md`` into ``folder``."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    written: list[Path] = []
    for file in exports.FILES:
        path = folder / f"{file}.{fmt}"
        tick = progress(file) if progress else None
        if fmt == "csv":
            await exports.write_csv(session, ctx, file, path, progress=tick)
        else:
            await exports.write_parquet(session, ctx, file, path, progress=tick)
        written.append(path)
    path = folder / "datapackage.json"
    document = descriptor(ctx, fmt, generated_on=generated_on)
    text = json.dumps(document, indent=2, default=str) + "\n"
    await asyncio.to_thread(path.write_text, text, encoding="utf-8")
    written.append(path)
    path = folder / "methods.md"
    await asyncio.to_thread(path.write_text, methods_text(ctx), encoding="utf-8")
    written.append(path)
    return written


async def zip_package(
    session: AsyncSession, ctx: exports.ExportContext, fmt: str, *, generated_on: date
) -> Path:
    """The package as one zip in a temporary file (the caller deletes it)."""
    work = Path(tempfile.mkdtemp(prefix="taptrail-package-"))
    try:
        files = await write_package(session, ctx, work, fmt, generated_on=generated_on)
        return await asyncio.to_thread(_zip, files)
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)


def _zip(files: list[Path]) -> Path:
    fd, name = tempfile.mkstemp(prefix="taptrail-package-", suffix=".zip")
    with open(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, arcname=path.name)
    return Path(name)

"""Importing IoD "File 7" and ONS postcode lookups into the database, on both backends, and
the postcode -> LSOA -> decile lookup end to end."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from api.app_state import state_of
from evaluation.csv_source import ImportFileError
from evaluation.importing import import_imd, import_postcodes
from geo.deprivation import Deprivation, derive, lookup_deprivation
from geo.models import LsoaArea, PostcodeLookup
from harness.game_files import game_file
from organising.repository import game_by_slug
from people.models import Player
from tests.evaluation.eval_helpers import DATA
from tests.helpers import auth, letters

IOD2019 = DATA / "iod2019_file7_excerpt.csv"
IOD2025 = DATA / "iod2025_file7_excerpt.csv"
NSPL = DATA / "nspl21_aug2024_excerpt_latin1.csv"
PCD_LOOKUP = DATA / "pcd_oa21_lsoa21_msoa21_lad_excerpt.csv"


async def _area(app: FastAPI, code: str) -> LsoaArea | None:
    async with state_of(app).sessionmaker() as s:
        return await s.get(LsoaArea, code)


async def _postcode(app: FastAPI, pcds: str) -> PostcodeLookup | None:
    async with state_of(app).sessionmaker() as s:
        return await s.get(PostcodeLookup, pcds)


async def _imd(app: FastAPI, path: Any, **kwargs: Any) -> Any:
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        summary = await import_imd(s, path, **kwargs)
        await s.commit()
    return summary


async def _postcodes(app: FastAPI, path: Any, **kwargs: Any) -> Any:
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        summary = await import_postcodes(s, path, **kwargs)
        await s.commit()
    return summary


async def test_iod2019_file7_import_is_an_idempotent_upsert(app: FastAPI) -> None:
    first = await _imd(app, IOD2019)
    assert first.error_count == 0
    assert first.details["nation"] == "england" and first.details["edition"] == "2019"
    burnley = await _area(app, "E01005063")
    assert burnley is not None
    assert (burnley.name, burnley.lad_code, burnley.lad_name) == (
        "Burnley 004A",
        "E07000117",
        "Burnley",
    )
    assert (burnley.imd_rank, burnley.imd_decile, burnley.population) == (1510, 1, 1611)
    assert burnley.imd_score == pytest.approx(48.961)
    assert (burnley.nation, burnley.edition) == ("england", "2019")

    again = await _imd(app, IOD2019)
    assert again.rows == first.rows
    async with state_of(app).sessionmaker() as s:
        count = await s.scalar(
            select(func.count()).select_from(LsoaArea).where(LsoaArea.edition == "2019")
        )
    assert count == first.rows
    assert any("of the 32,844 areas" in note for note in first.notes)


async def test_iod2025_replaces_the_2019_edition_with_thousands_separators(
    app: FastAPI,
) -> None:
    await _imd(app, IOD2019)
    summary = await _imd(app, IOD2025)
    assert summary.details["edition"] == "2025"
    assert summary.details["removed_other_editions"] > 0
    area = await _area(app, "E01005063")
    assert area is not None and area.edition == "2025"
    assert (area.imd_rank, area.imd_decile) == (987, 1)
    london = await _area(app, "E01000001")
    assert london is not None and london.imd_rank == 26525  # "26,525" in the file
    async with state_of(app).sessionmaker() as s:
        editions = set(
            await s.scalars(select(LsoaArea.edition).where(LsoaArea.nation == "england"))
        )
    assert editions == {"2025"}  # one edition per nation: no double-counted residents
    populations = {
        code: pop
        for code, pop in [
            (a.code, a.population)
            for a in [await _area(app, c) for c in ("E01005063", "E01005064")]
            if a is not None
        ]
    }
    assert all(isinstance(p, int) and p > 0 for p in populations.values())


async def test_small_batches_use_several_statements_and_commits(app: FastAPI) -> None:
    batches: list[int] = []

    async def after(rows: int) -> None:
        batches.append(rows)

    summary = await _imd(app, IOD2025, batch_rows=2, after_batch=after)
    assert summary.batches == len(batches) >= 3
    assert batches == sorted(batches) and batches[-1] == summary.rows


async def test_bad_lines_are_named_and_the_rest_imported(app: FastAPI, tmp_path: Path) -> None:
    lines = IOD2025.read_bytes().splitlines(keepends=True)
    broken = lines[2].replace(b",1,", b",eleven,", 1)  # the decile of the second area
    path = tmp_path / "iod.csv"
    path.write_bytes(b"".join([lines[0], lines[1], broken, *lines[3:]]))
    summary = await _imd(app, path)
    assert summary.error_count == 1
    message = str(summary.errors[0])
    assert message.startswith("line 3: ")
    assert summary.rows == len(lines) - 2


async def test_unreadable_header_imports_nothing(app: FastAPI, tmp_path: Path) -> None:
    path = tmp_path / "not-iod.csv"
    path.write_text("code,name,score\nE01X,Somewhere,1\n", encoding="utf-8")
    async with state_of(app).sessionmaker() as s:
        before = await s.scalar(select(func.count()).select_from(LsoaArea))
    with pytest.raises(ImportFileError, match="line 1"):
        await _imd(app, path)
    async with state_of(app).sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(LsoaArea)) == before


async def test_nspl_latin1_terminated_kept_pseudo_codes_skipped(app: FastAPI) -> None:
    summary = await _postcodes(app, NSPL)
    assert summary.rows == 3
    assert summary.details["terminated"] == 1
    assert summary.details["without_lsoa"] == 2
    terminated = await _postcode(app, "BB11 4BX")
    assert terminated is not None and terminated.terminated
    assert terminated.lsoa_code == "E01005064"
    assert await _postcode(app, "GY1 1AA") is None  # Channel Islands pseudo code
    assert await _postcode(app, "AB1 0AA") is None  # no 2021 LSOA


async def test_pcd_oa_lsoa_lookup_and_file_objects(app: FastAPI) -> None:
    with PCD_LOOKUP.open("rb") as handle:
        summary = await _postcodes(app, handle)
    assert summary.rows == 4
    assert summary.details["latin1_lines"] == 1
    welsh = await _postcode(app, "LL77 7TW")
    assert welsh is not None and welsh.lsoa_code == "W01000001"


async def test_vintage_follows_the_imported_iod_edition(app: FastAPI, tmp_path: Path) -> None:
    path = tmp_path / "onspd.csv"
    path.write_text(
        "PCD,PCDS,DOTERM,LSOA11,LSOA21\n"
        '"ZZ1 1AA","ZZ1 1AA","","E01005063","E01099991"\n'
        '"ZZ1 1AB","ZZ1 1AB","","E01005064","E01099992"\n',
        encoding="utf-8",
    )
    await _imd(app, IOD2019)
    summary = await _postcodes(app, path)
    assert summary.details["lsoa_vintage"] == "2011"
    row = await _postcode(app, "ZZ1 1AA")
    assert row is not None and row.lsoa_code == "E01005063"

    await _imd(app, IOD2025)
    summary = await _postcodes(app, path)
    assert summary.details["lsoa_vintage"] == "2021"
    row = await _postcode(app, "ZZ1 1AA")
    assert row is not None and row.lsoa_code == "E01099991"

    summary = await _postcodes(app, path, lsoa_vintage="2011")
    row = await _postcode(app, "ZZ1 1AA")
    assert row is not None and row.lsoa_code == "E01005063"

    only_2021 = tmp_path / "only21.csv"
    only_2021.write_text('pcds,doterm,lsoa21cd\n"ZZ1 1AC","","E01005063"\n', encoding="utf-8")
    await _imd(app, IOD2019)
    summary = await _postcodes(app, only_2021)
    assert summary.details["lsoa_vintage"] == "2021"
    assert any("newest LSOA column" in note for note in summary.notes)


async def test_duplicate_postcodes_in_one_batch(app: FastAPI) -> None:
    data = b'pcds,doterm,lsoa21cd\n"ZZ9 9AA","","E01005063"\n"ZZ9 9AA","202001","E01005064"\n'
    summary = await _postcodes(app, io.BytesIO(data))
    assert summary.rows == 1
    row = await _postcode(app, "ZZ9 9AA")
    assert row is not None and (row.lsoa_code, row.terminated) == ("E01005064", True)


async def test_lookup_end_to_end_postcode_to_lsoa_to_decile(app: FastAPI) -> None:
    await _imd(app, IOD2025)
    await _postcodes(app, PCD_LOOKUP)
    async with state_of(app).sessionmaker() as s:
        found = await lookup_deprivation(s, " bb113df ")
        assert found == Deprivation("found", "E01005063", 1, "england")
        # terminated postcodes still match, so old registrations keep working
        old = await lookup_deprivation(s, "BB11 4BX")
        assert old is not None and old.lsoa_code == "E01005064"
        area = await s.get(LsoaArea, "E01005064")
        assert area is not None and old.imd_decile == area.imd_decile
        # a Welsh postcode whose LSOA has no imported deprivation data
        assert await lookup_deprivation(s, "LL77 7TW") is None
        assert await lookup_deprivation(s, "QQ1 1QQ") is None
        assert await lookup_deprivation(s, "not a postcode") is None
        # the people domain's entry point
        assert (await derive(s, "bb11 3df")).status == "found"
        assert (await derive(s, "ZZ99 9ZZ")).status == "not_found"
        assert (await derive(s, "")).status == "not_given"


def _postcode_file(path: Path, rows: int, prefix: str) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("pcd7,pcd8,pcds,dointr,doterm,usertype,oa21cd,lsoa21cd\n")
        for i in range(rows):
            district, unit = divmod(i, 26 * 26 * 10)
            sector, rest = divmod(unit, 26 * 26)
            letters = chr(65 + rest // 26) + chr(65 + rest % 26)
            pcds = f"{prefix}{district + 1} {sector}{letters}"
            out.write(f'"{pcds}","{pcds}","{pcds}","198001","","0","E00000001","E01005063"\n')
    return path


async def _peak_import(app: FastAPI, path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        summary = await _postcodes(app, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return summary.rows, peak


async def test_large_file_streams_in_bounded_memory(app: FastAPI, tmp_path: Path) -> None:
    small = _postcode_file(tmp_path / "small.csv", 10_000, "ZX")
    large = _postcode_file(tmp_path / "large.csv", 80_000, "ZY")
    small_rows, small_peak = await _peak_import(app, small)
    large_rows, large_peak = await _peak_import(app, large)
    assert (small_rows, large_rows) == (10_000, 80_000)
    # Eight times the rows, the same peak: memory is bounded by the batch, not the file.
    assert large_peak < 1.5 * small_peak + 1_000_000, (small_peak, large_peak)
    async with state_of(app).sessionmaker() as s:
        count = await s.scalar(
            select(func.count()).select_from(PostcodeLookup).where(PostcodeLookup.pcds.like("ZY%"))
        )
    assert count == 80_000


async def test_registration_derives_the_decile_and_drops_the_postcode(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    await _imd(app, IOD2025)
    await _postcodes(app, PCD_LOOKUP)
    data = game_file(slug)
    data["players"] = [
        {
            "card": "0000001",
            "nickname": f"Wren {letters(slug)}",
            "postcode": "bb11 3df",
            "age_band": "5-11",
            "gender": "female",
            "team": "SCH1",
            "public": True,
        },
        {
            "card": "0000002",
            "nickname": f"Hare {letters(slug)}",
            "postcode": "BB114BX",
            "age_band": "25-44",
            "gender": "male",
            "public": False,
        },
        {
            "card": "0000003",
            "nickname": f"Moth {letters(slug)}",
            "postcode": "ZZ99 9ZZ",
            "age_band": "65+",
            "gender": "female",
            "public": False,
        },
    ]
    response = await client.put(
        f"/api/v1/admin/games/{slug}", json=data, headers=auth(organiser_token)
    )
    assert response.status_code == 200, response.text
    async with state_of(app).sessionmaker() as s:
        game = await game_by_slug(s, slug)
        assert game is not None
        players = {
            p.nickname: p for p in await s.scalars(select(Player).where(Player.game_id == game.id))
        }
        burnley = await s.get(LsoaArea, "E01005064")
    wren, hare, moth = (players[f"{n} {letters(slug)}"] for n in ("Wren", "Hare", "Moth"))
    assert (wren.lsoa_code, wren.imd_decile, wren.imd_nation, wren.deprivation_status) == (
        "E01005063",
        1,
        "england",
        "found",
    )
    assert burnley is not None
    assert (hare.lsoa_code, hare.imd_decile) == ("E01005064", burnley.imd_decile)  # terminated
    assert (moth.lsoa_code, moth.imd_decile, moth.deprivation_status) == (None, None, "not_found")
    columns = {c.name for c in Player.__table__.columns}
    assert not {"postcode", "pcds"} & columns  # the postcode itself is never stored

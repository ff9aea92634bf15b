"""``taptrail import imd|postcodes`` and ``taptrail export`` against the test database."""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from fastapi import FastAPI

from geo.deprivation import lookup_deprivation
from kernel.db import make_engine, make_sessionmaker
from kernel.settings import Settings, get_settings
from taptrail.cli import main
from tests.evaluation.eval_helpers import DATA, P, add_days, add_players, make_game


@pytest.fixture
def cli(
    database_url: str, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    monkeypatch.setenv("TAPTRAIL_DATABASE_URL", database_url)
    assert settings.secret_key is not None
    monkeypatch.setenv("TAPTRAIL_SECRET_KEY", settings.secret_key)  # the app's key
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_import_commands_and_lookup(cli: CliRunner) -> None:
    imd = cli.invoke(main, ["import", "imd", str(DATA / "iod2025_file7_excerpt.csv")])
    assert imd.exit_code == 0, imd.output
    assert "england IoD2025" in imd.output
    assert "areas imported" in imd.output
    postcodes = cli.invoke(
        main, ["import", "postcodes", str(DATA / "pcd_oa21_lsoa21_msoa21_lad_excerpt.csv")]
    )
    assert postcodes.exit_code == 0, postcodes.output
    assert "4 postcodes imported" in postcodes.output
    assert "1 terminated postcodes kept" in postcodes.output
    assert terminated_postcode_is_found()


def terminated_postcode_is_found() -> bool:
    """Look a terminated postcode up through a fresh engine on the CLI's database."""

    async def go() -> bool:
        engine = make_engine(get_settings().database_url)
        try:
            async with make_sessionmaker(engine)() as s:
                found = await lookup_deprivation(s, "bb11 4bx")
                return found is not None and found.imd_decile is not None
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_import_errors_name_the_line(cli: CliRunner, tmp_path: Path) -> None:
    lines = (DATA / "iod2025_file7_excerpt.csv").read_bytes().splitlines(keepends=True)
    path = tmp_path / "broken.csv"
    path.write_bytes(lines[0] + lines[1] + b"E01BROKEN,x\n" + b"".join(lines[2:]))
    result = cli.invoke(main, ["import", "imd", str(path)])
    assert result.exit_code == 1
    assert "1 line(s) were skipped" in result.output
    assert "line 3: " in result.output

    bad = tmp_path / "header.csv"
    bad.write_text("what,is,this\n1,2,3\n", encoding="utf-8")
    result = cli.invoke(main, ["import", "postcodes", str(bad)])
    assert result.exit_code == 2
    assert "line 1: not an ONS postcode lookup" in result.output
    assert "nothing was imported" in result.output


async def test_export_command_writes_the_data_package(
    client: httpx.AsyncClient,
    app: FastAPI,
    organiser_token: str,
    slug: str,
    tmp_path: Path,
    cli: CliRunner,
) -> None:
    game = await make_game(client, app, organiser_token, slug)
    ids = await add_players(app, game, [P(decile=2, lsoa=None)] * 11)
    for _pid, holder in ids:
        await add_days(app, game.id, holder, 3)

    def run(*args: str) -> object:
        return cli.invoke(main, list(args))

    out = tmp_path / "out"
    result = await asyncio.to_thread(
        run, "export", slug, "--project", "council", "--out", str(out), "--create"
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    daily = list(csv.DictReader((out / "daily.csv").open(encoding="utf-8")))
    assert len(daily) == 33
    package = json.loads((out / "datapackage.json").read_text())
    manifest = package["taptrail:anonymisation"]
    assert manifest["project"]["name"] == "council"
    assert manifest["k_anonymity"]["records_out"] == 11
    assert [r["path"] for r in package["resources"]] == ["players.csv", "daily.csv", "surveys.csv"]
    assert "k = 10" in (out / "methods.md").read_text()

    result = await asyncio.to_thread(
        run, "export", slug, "--project", "council", "--format", "parquet", "--out", str(out)
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    table = pq.read_table(out / "daily.parquet")
    package = json.loads((out / "datapackage.json").read_text())
    assert [r["format"] for r in package["resources"]] == ["parquet"] * 3
    assert table.num_rows == 33
    assert set(table.column("pseudonym").to_pylist()) == {r["pseudonym"] for r in daily}

    missing = await asyncio.to_thread(run, "export", slug, "--project", "nobody")
    assert missing.exit_code == 2  # type: ignore[attr-defined]
    assert "no evaluation project 'nobody'" in missing.output  # type: ignore[attr-defined]

"""The motivated-intruder test: the demo town's export joined to the public players board
and to another project's export finds no record with fewer than k candidates."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import Counter
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from frictionless import Package, validate

from tests.evaluation import intruder
from tests.evaluation.eval_helpers import token
from tests.evaluation.export_town import demo_quintiles, demo_town, public_board
from tests.helpers import auth

K = 10


async def _file(
    client: httpx.AsyncClient, slug: str, project: str, name: str, tok: str
) -> list[dict[str, str]]:
    response = await client.get(
        f"/api/v1/games/{slug}/exports/{project}/{name}?format=csv", headers=auth(tok)
    )
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


async def test_intruder_finds_no_record_with_fewer_than_k_candidates(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    game = await demo_town(client, app, organiser_token, slug)
    evaluator = await token(app, "evaluator", game_id=game.id)
    files: dict[str, dict[str, list[dict[str, str]]]] = {}
    for project in ("alpha", "beta"):
        response = await client.post(
            f"/api/v1/admin/games/{slug}/evaluation-projects",
            json={"name": project},
            headers=auth(organiser_token),
        )
        assert response.status_code == 201, response.text
        files[project] = {
            name: await _file(client, slug, project, name, evaluator)
            for name in ("players", "daily")
        }
    board = await public_board(client, slug)
    assert len(board) > 50
    alpha, beta = files["alpha"], files["beta"]
    found = {
        "board": intruder.summary(
            [n for _, n in intruder.board_candidates(board, alpha["players"], alpha["daily"])], K
        ),
        "players within": intruder.summary(intruder.class_sizes(alpha["players"]), K),
        "daily within": intruder.summary(intruder.class_sizes(alpha["daily"]), K),
        "players across": intruder.summary(
            intruder.class_sizes(alpha["players"], beta["players"]), K
        ),
        "daily across": intruder.summary(intruder.class_sizes(alpha["daily"], beta["daily"]), K),
    }
    print("\nintruder:", found)
    assert all(v["below_k"] == 0 for v in found.values()), found


async def test_demo_export_keeps_every_quintile(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    game = await demo_town(client, app, organiser_token, slug)
    evaluator = await token(app, "evaluator", game_id=game.id)
    response = await client.post(
        f"/api/v1/admin/games/{slug}/evaluation-projects",
        json={"name": "study"},
        headers=auth(organiser_token),
    )
    assert response.status_code == 201, response.text
    players = await _file(client, slug, "study", "players", evaluator)
    manifest = (
        await client.get(f"/api/v1/games/{slug}/exports/study/manifest", headers=auth(evaluator))
    ).json()
    k = manifest["k_anonymity"]
    print("\nplan:", [(g["step"], g["information_loss_bits"]) for g in k["generalisations"]])
    print("suppressed:", k["records_suppressed"], "bands:", manifest["bands"]["players"])
    # the demo town has comfortably more than k players in every quintile (at least 2k),
    # and the release keeps all five: the analysis variable is never generalised away
    population = Counter(demo_quintiles().values())
    assert min(population[q] for q in range(1, 6)) >= 2 * K, population
    assert {r["imd_quintile"] for r in players} == {"1", "2", "3", "4", "5"}
    assert "imd_quintile" in k["never_generalised"] and "imd_nation" in k["never_generalised"]
    assert k["records_suppressed"] == k["records_in"] - len(players)
    assert k["records_suppressed"] == sum(n for n in population.values() if n < K)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
async def test_package_zip_is_a_valid_frictionless_data_package(
    client: httpx.AsyncClient,
    app: FastAPI,
    organiser_token: str,
    slug: str,
    tmp_path: Path,
    fmt: str,
) -> None:
    game = await demo_town(client, app, organiser_token, slug)
    evaluator = await token(app, "evaluator", game_id=game.id)
    response = await client.post(
        f"/api/v1/admin/games/{slug}/evaluation-projects",
        json={"name": "study"},
        headers=auth(organiser_token),
    )
    assert response.status_code == 201, response.text
    url = f"/api/v1/games/{slug}/exports/study/package.zip?format={fmt}"
    assert (await client.get(url, headers=auth(organiser_token))).status_code == 403
    response = await client.get(url, headers=auth(evaluator))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path)
    files = {f"{name}.{fmt}" for name in ("players", "daily", "surveys")}
    assert names == files | {"datapackage.json", "methods.md"}

    report = validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])
    descriptor = json.loads((tmp_path / "datapackage.json").read_text())
    players = next(r for r in descriptor["resources"] if r["name"] == "players")
    fields = {f["name"]: f for f in players["schema"]["fields"]}
    assert players["schema"]["primaryKey"] == ["pseudonym"]
    assert fields["imd_quintile"]["type"] == "integer"
    assert fields["distance_km"]["unit"] == "km"
    assert all(c["label"] for c in fields["points"]["categories"])
    daily = next(r for r in descriptor["resources"] if r["name"] == "daily")
    assert daily["schema"]["foreignKeys"][0]["reference"]["resource"] == "players"
    anonymisation = descriptor["taptrail:anonymisation"]
    assert anonymisation["k_anonymity"]["records_suppressed"] == 0  # every quintile has > k
    assert anonymisation["daily_k_anonymity"]["records_in"] > 0
    methods = (tmp_path / "methods.md").read_text()
    for words in ("HMAC-SHA256", "suppressed", "k = 10", "never generalised", "bits per record"):
        assert words in methods
    rows = Package(str(tmp_path / "datapackage.json")).get_resource("players").read_rows()
    assert {r["imd_quintile"] for r in rows} == {1, 2, 3, 4, 5}

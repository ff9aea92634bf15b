"""Anonymised exports: projects, role boundaries, forbidden columns and values, k-anonymity,
keyed pseudonyms, streaming CSV and Parquet."""

from __future__ import annotations

import base64
import csv
import io
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from api.app_state import state_of
from evaluation import exports
from evaluation.models import EvaluationProject
from harness.game_files import game_file
from kernel.audit import AuditRecord
from kernel.version import __version__
from organising.repository import game_by_slug
from people.models import Card, Player
from tests.evaluation.eval_helpers import (
    EGame,
    P,
    add_answers,
    add_areas,
    add_days,
    add_players,
    answer,
    codes,
    existing_game,
    make_game,
    token,
)
from tests.helpers import auth, letters

QIS = ("age_band", "gender", "imd_quintile", "imd_nation", "team_kind")


async def create_project(
    client: httpx.AsyncClient, slug: str, organiser: str, name: str, **extra: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/admin/games/{slug}/evaluation-projects",
        json={"name": name, **extra},
        headers=auth(organiser),
    )


async def download(
    client: httpx.AsyncClient, slug: str, project: str, file: str, tok: str, fmt: str = "csv"
) -> httpx.Response:
    return await client.get(
        f"/api/v1/games/{slug}/exports/{project}/{file}?format={fmt}", headers=auth(tok)
    )


def rows_of(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


class Town:
    """A game with registered players (cards, nicknames, e-mails, postcodes, LSOAs), activity
    and survey answers: everything an export must not leak."""

    def __init__(self, game: EGame, players: list[tuple[int, int]], lsoas: list[str]) -> None:
        self.game = game
        self.players = players
        self.lsoas = lsoas
        self.secrets: set[str] = set()


async def build_town(
    client: httpx.AsyncClient,
    app: FastAPI,
    organiser: str,
    slug: str,
    *,
    outliers: int = 0,
) -> Town:
    # ten players registered through the game file (cards, nicknames, postcodes)
    data = game_file(slug)
    data["players"] = [
        {
            "card": f"{i:07d}",
            "nickname": f"Fox {letters(slug[-6:])} {i}",
            "postcode": "BB11 3DF",
            "age_band": "5-11",
            "gender": "female",
            "team": "SCH1",
            "email": f"parent{i}.{slug}@example.org",
            "public": True,
        }
        for i in range(1, 11)
    ]
    response = await client.put(f"/api/v1/admin/games/{slug}", json=data, headers=auth(organiser))
    assert response.status_code == 200, response.text
    game = await existing_game(app, slug, organiser)
    (lad,) = codes("E07", 1)
    lsoas = await add_areas(app, lad, [(1, 1500), (2, 1500), (5, 1000), (9, 800)])
    async with state_of(app).sessionmaker() as s:
        registered = [
            (p.id, p.holder_id)
            for p in await s.scalars(
                select(Player).where(Player.game_id == game.id).order_by(Player.id)
            )
        ]
        cards = list(await s.scalars(select(Card).where(Card.game_id == game.id)))
        # the registered players live in the town's Q1 area
        for p in await s.scalars(select(Player).where(Player.game_id == game.id)):
            p.lsoa_code, p.imd_decile, p.imd_nation = lsoas[0], 1, "england"
        await s.commit()
    specs = (
        [P(lsoa=lsoas[0], decile=1, age_band="5-11", gender="male", team="SCH1")] * 15
        + [P(lsoa=lsoas[1], decile=2, age_band="5-11", gender="female", team="SCH1")] * 10
        + [P(lsoa=lsoas[2], decile=5, age_band="25-44", gender="female", team="COM1")] * 12
        + [P(lsoa=lsoas[2], decile=5, age_band="25-44", gender="male", team="COM1")] * 3
        + [P(lsoa=lsoas[3], decile=9, age_band="65+", gender="male", team=None)] * outliers
    )
    specs = [
        P(
            **{
                **vars(s),
                "nickname": f"Owl {letters(slug[-6:])} {i}",
                "email": f"o{i}.{slug}@example.org",
            }
        )
        for i, s in enumerate(specs)
    ]
    inserted = await add_players(app, game, specs)
    players = registered + inserted
    answers = []
    for n, (pid, holder) in enumerate(players):
        await add_days(app, game.id, holder, 1 + n % 5)
        answers.append(
            answer(pid, 1, game.id, activity=n % 8, belonging="fairly", nature=[5, 6, 7, 5])
        )
        if n % 2:
            answers.append(
                answer(
                    pid,
                    2,
                    game.id,
                    activity=None,
                    declined=["activity_days"],
                    answered_by="parent_or_carer",
                    on=date(2027, 6, 10),
                )
            )
    await add_answers(app, answers)
    town = Town(game, players, lsoas)
    town.secrets |= {f"Fox {letters(slug[-6:])} {i}" for i in range(1, 11)}
    town.secrets |= {f"parent{i}.{slug}@example.org" for i in range(1, 11)}
    town.secrets |= {s.nickname for s in specs if s.nickname} | {s.email for s in specs if s.email}
    town.secrets |= {"BB11 3DF", "BB113DF", *lsoas, lad}
    town.secrets |= {c.number for c in cards} | {c.uid for c in cards}
    town.secrets |= {str(pid) for pid, _ in players if pid >= 1000}  # long ids only
    return town


async def test_projects_and_role_boundaries(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    game = await make_game(client, app, organiser_token, slug)
    other = await make_game(client, app, organiser_token, slug + "-o")
    [(pid, _)] = await add_players(app, game, [P()])
    evaluator = await token(app, "evaluator", game_id=game.id)

    created = await create_project(client, slug, organiser_token, "uni-2027")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["k"] == 10
    assert body["files"]["daily"].endswith(f"/games/{slug}/exports/uni-2027/daily")
    assert not any("key" in field for field in body)
    assert (await create_project(client, slug, organiser_token, "uni-2027")).status_code == 409
    assert (await create_project(client, slug, organiser_token, "low-k", k=5)).status_code == 422
    assert (await create_project(client, slug, organiser_token, "Bad Name")).status_code == 422
    assert (await create_project(client, slug, evaluator, "mine")).status_code == 403

    listed = await client.get(
        f"/api/v1/admin/games/{slug}/evaluation-projects", headers=auth(evaluator)
    )
    assert [p["name"] for p in listed.json()["projects"]] == ["uni-2027"]
    async with state_of(app).sessionmaker() as s:
        project = await s.scalar(
            select(EvaluationProject).where(EvaluationProject.game_id == game.id)
        )
        assert project is not None
        # the key is stored sealed with the server key, never in the clear
        key = base64.urlsafe_b64decode(state_of(app).secret_box.open(project.sealed_key))
        assert len(key) == 32 and key.hex() not in project.sealed_key

    assert (await download(client, slug, "uni-2027", "players", evaluator)).status_code == 200
    # organisers get aggregates only: player-level files need an evaluator token
    for denied in (
        organiser_token,
        await token(app, "organiser", game_id=game.id),
        await token(app, "evaluator", game_id=other.id),
        await token(app, "player", game_id=game.id, player_id=pid),
    ):
        for file in ("players", "daily", "surveys", "manifest"):
            response = await download(client, slug, "uni-2027", file, denied)
            assert response.status_code == 403, (file, response.text)
    assert (await client.get(f"/api/v1/games/{slug}/exports/uni-2027/daily")).status_code == 401
    assert (await download(client, slug, "nope", "daily", evaluator)).status_code == 404
    assert (await download(client, slug, "uni-2027", "cards", evaluator)).status_code == 422


async def test_export_files_leak_nothing_and_are_k_anonymous(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    town = await build_town(client, app, organiser_token, slug)
    assert (await create_project(client, slug, organiser_token, "study")).status_code == 201
    evaluator = await token(app, "evaluator", game_id=town.game.id)

    files = {
        name: rows_of(await download(client, slug, "study", name, evaluator))
        for name in exports.FILES
    }
    for name, rows in files.items():
        assert rows, name
        assert list(rows[0]) == [c for c, _, _ in exports.COLUMNS[name]]
        forbidden_columns = {"player_id", "nickname", "email", "postcode", "lsoa_code", "card"}
        assert not forbidden_columns & set(rows[0])
        for row in rows:
            for value in row.values():
                assert value not in town.secrets, (name, value)
                assert not re.search(r"\d{4}-\d{2}-\d{2}[T ]\d", value), (name, value)
                assert "@" not in value

    players = files["players"]
    assert len(players) == len(town.players)  # nothing suppressed here
    # k-anonymous on every released column (activity bands too), not only the quasi-identifiers
    classes = Counter(tuple(v for c, v in r.items() if c != "pseudonym") for r in players)
    assert min(classes.values()) >= 10
    # the three men aged 25-44 would be a class of 3: gender is generalised for everyone
    assert {r["gender"] for r in players} == {"any"}
    assert {r["age_band"] for r in players} == {"5-11", "25-44"}
    assert {r["team_kind"] for r in players} == {"school", "community"}
    assert {r["imd_quintile"] for r in players} == {"1", "3"}
    # exact activity never leaves: every value is a band code of the package
    for column in ("taps", "legs", "points", "distance_km", "active_days"):
        assert all(not r[column].isdigit() or r[column] == "0" for r in players), column

    pseudonyms = {r["pseudonym"] for r in players}
    assert len(pseudonyms) == len(players)
    assert all(re.fullmatch(r"[0-9a-f]{16}", p) for p in pseudonyms)
    daily = files["daily"]
    assert {r["pseudonym"] for r in daily} == pseudonyms
    # day records in classes (date, bands) smaller than k are left out, and counted
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["date"]) for r in daily)
    day_classes = Counter(tuple(v for c, v in r.items() if c != "pseudonym") for r in daily)
    assert min(day_classes.values()) >= 10
    surveys = files["surveys"]
    assert {r["pseudonym"] for r in surveys} <= pseudonyms
    second = [r for r in surveys if r["wave"] == "2"]
    assert second and all(r["prefer_not_to_say"] == "activity_days" for r in second)
    assert all(r["activity_days"] == "" and r["answered_on"] == "2027-06-10" for r in second)
    assert {r["answered_by"] for r in second} == {"parent_or_carer"}
    first = [r for r in surveys if r["wave"] == "1"]
    assert all(float(r["nature_score"]) == pytest.approx(5.75) for r in first)

    manifest = (await download(client, slug, "study", "manifest", evaluator)).json()
    assert manifest["schema"] == exports.EXPORT_SCHEMA

    assert manifest["software_version"] == __version__
    assert manifest["game"]["slug"] == slug
    assert manifest["k_anonymity"]["k"] == 10
    assert "gender_any" in [g["step"] for g in manifest["k_anonymity"]["generalisations"]]
    assert manifest["k_anonymity"]["records_suppressed"] == 0
    daily_plan = manifest["daily_k_anonymity"]
    assert daily_plan["records_out"] == len(daily)
    assert daily_plan["records_in"] == sum(1 + n % 5 for n in range(len(town.players)))
    assert daily_plan["records_out"] + daily_plan["records_suppressed"] == daily_plan["records_in"]
    assert "postcodes" in manifest["never_exported"]
    assert "T" not in manifest["generated_on"]

    async with state_of(app).sessionmaker() as s:
        logged = list(
            await s.scalars(
                select(AuditRecord.detail).where(
                    AuditRecord.game_id == town.game.id, AuditRecord.action == "evaluation.export"
                )
            )
        )
    assert sorted(d["file"] for d in logged) == ["daily", "manifest", "players", "surveys"]


async def test_suppressed_players_leave_every_file(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    town = await build_town(client, app, organiser_token, slug, outliers=2)
    assert (await create_project(client, slug, organiser_token, "study")).status_code == 201
    evaluator = await token(app, "evaluator", game_id=town.game.id)
    manifest = (await download(client, slug, "study", "manifest", evaluator)).json()
    k = manifest["k_anonymity"]
    # everything is tried before anyone is suppressed; the two in Q5 are unique on the
    # quintile, which is never generalised, so the steps that cannot save them are undone
    tried = [g["step"] for g in k["generalisations"]] + k["steps_undone"]
    assert {"gender_any", "age_band_wide", "age_band_any", "team_kind_any"} <= set(tried)
    assert "imd_quintile" in k["never_generalised"]
    assert (k["records_in"], k["records_suppressed"]) == (len(town.players), 2)
    players = rows_of(await download(client, slug, "study", "players", evaluator))
    assert len(players) == len(town.players) - 2
    assert "5" not in {r["imd_quintile"] for r in players}
    kept = {r["pseudonym"] for r in players}
    daily = rows_of(await download(client, slug, "study", "daily", evaluator))
    surveys = rows_of(await download(client, slug, "study", "surveys", evaluator))
    assert {r["pseudonym"] for r in daily} <= kept
    assert {r["pseudonym"] for r in surveys} <= kept
    suppressed_days = sum(1 + n % 5 for n in range(len(town.players) - 2, len(town.players)))
    days = manifest["daily_k_anonymity"]
    assert days["records_in"] == sum(1 + n % 5 for n in range(len(town.players))) - suppressed_days
    assert len(daily) == days["records_out"]


async def test_two_projects_pseudonyms_cannot_be_linked(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    game = await make_game(client, app, organiser_token, slug)
    ids = await add_players(app, game, [P(decile=3, lsoa=None)] * 12)
    for n, (_pid, holder) in enumerate(ids):
        await add_days(app, game.id, holder, n + 1)
    evaluator = await token(app, "evaluator", game_id=game.id)
    pseudonyms: dict[str, list[str]] = {}
    for name in ("alpha", "beta"):
        assert (await create_project(client, slug, organiser_token, name)).status_code == 201
        rows = rows_of(await download(client, slug, name, "players", evaluator))
        pseudonyms[name] = [r["pseudonym"] for r in rows]  # in player order
        again = rows_of(await download(client, slug, name, "players", evaluator))
        assert [r["pseudonym"] for r in again] == pseudonyms[name]  # stable
        # the activity that told the twelve apart is banded until ten share each value
        assert min(Counter(r["active_days"] for r in rows).values()) >= 10
    assert len(pseudonyms["alpha"]) == 12
    for a, b in zip(pseudonyms["alpha"], pseudonyms["beta"], strict=True):
        assert a != b
    assert not set(pseudonyms["alpha"]) & set(pseudonyms["beta"])


async def test_parquet_matches_csv(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str, tmp_path: Path
) -> None:
    town = await build_town(client, app, organiser_token, slug)
    assert (await create_project(client, slug, organiser_token, "pq")).status_code == 201
    evaluator = await token(app, "evaluator", game_id=town.game.id)
    for name in exports.FILES:
        response = await download(client, slug, "pq", name, evaluator, fmt="parquet")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/vnd.apache.parquet"
        path = tmp_path / f"{name}.parquet"
        path.write_bytes(response.content)
        table = pq.read_table(path)
        assert table.column_names == [c for c, _, _ in exports.COLUMNS[name]]
        from_csv = rows_of(await download(client, slug, "pq", name, evaluator))
        assert table.num_rows == len(from_csv)
        first = table.slice(0, 1).to_pylist()[0]
        assert first["pseudonym"] == from_csv[0]["pseudonym"]

    # row groups: the writer never holds more than one group
    async with state_of(app).sessionmaker() as s:
        game = await game_by_slug(s, slug)
        assert game is not None
        ctx = await exports.export_context(s, game, "pq", box=state_of(app).secret_box)
        path = tmp_path / "daily-small-groups.parquet"
        written = await exports.write_parquet(s, ctx, "daily", path, row_group_rows=25)
        chunks = [c async for c in exports.csv_chunks(s, ctx, "daily")]
    meta = pq.ParquetFile(path).metadata
    assert meta.num_rows == written and meta.num_row_groups >= written // 25 > 1
    assert len(chunks) >= 2  # the header, then one chunk per partition
    assert b"".join(chunks).count(b"\r\n") == written + 1

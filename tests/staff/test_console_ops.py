"""The console's pages for running a game: the Overview (figures per day, live JSON),
the Boxes pages (the visit list, a box's history; rotate, disable, move, each confirmed
and audited) and who may open them (organisers of the game only)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import select, update

from api.app_state import state_of
from api.deps import server_now
from checkpoints.models import Reader
from kernel.audit import AuditRecord
from kernel.settings import OSM_TILES, Settings
from tests.scoring.taps import T, TestGame, insert_taps, local, make_game
from tests.staff.staff_helpers import Browser, make_user

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 5, 5, 12, 0, tzinfo=LONDON)


pytestmark = pytest.mark.usefixtures("clock_back")  # the games below set the clock


async def _game(app: FastAPI, slug: str) -> TestGame:
    game = await make_game(app, slug)
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await insert_taps(
            s,
            game,
            [
                T("0000001", "P", local(4, 8, 0)),
                T("0000001", "A", local(4, 8, 15)),
                T("0000001", "P", local(5, 8, 30)),
            ],
        )
        # One box heard from this morning with a flat battery; the others never heard.
        await s.execute(
            update(Reader)
            .where(Reader.id == f"R-{slug}-A")
            .values(last_heartbeat_at=local(5, 11, 30), battery_pct=9)
        )
        await s.commit()
    await state_of(app).after_game_change(game.game_id)
    app.dependency_overrides[server_now] = lambda: NOW
    return game


async def _organiser(app: FastAPI, game: TestGame) -> Browser:
    browser = Browser(app)
    email = await make_user(app, game_id=game.game_id)
    assert (await browser.sign_in(email)).status_code == 303
    return browser


async def test_the_overview_shows_today_and_each_day(app: FastAPI, slug: str) -> None:
    game = await _game(app, slug)
    page = f"/console/games/{slug}"
    async with await _organiser(app, game) as browser:
        home = await browser.get("/console/")
        assert f'href="{page}"' in home.text
        shown = await browser.get(page)
        assert shown.status_code == 200, shown.text
        today = shown.text.split('id="today"')[1].split('id="days"')[0]
        assert "Today, 2027-05-05" in today
        assert 'data-figure="taps">1<' in today and 'data-figure="active">1<' in today
        days = shown.text.split('id="days-table"')[1].split("</table>")[0]
        assert "Tue 4 May" in days and "Wed 5 May" in days and "Sat 1 May" in days
        # 4 May: two taps, one card, one 800 m leg.
        may4 = days.split("Tue 4 May")[1].split("</tr>")[0]
        assert [c.split("<")[0] for c in may4.split('numeric">')[1:]] == ["2", "1", "0", "0.8"]
        assert "Boxes needing a visit" in shown.text and f"R-{slug}-A" in shown.text
        live = await browser.get(page + "/overview.json")
        assert live.status_code == 200
        body = live.json()
        assert body["today"] == {
            "date": "2027-05-05",
            "taps": 1,
            "active": 1,
            "registrations": 0,
            "distance_km": 0.0,
        }
        assert body["boxes_needing_a_visit"] == 4


async def test_the_visit_list_ranks_boxes_by_urgency(app: FastAPI, slug: str) -> None:
    game = await _game(app, slug)
    async with await _organiser(app, game) as browser:
        shown = await browser.get(f"/console/games/{slug}/boxes")
        assert shown.status_code == 200, shown.text
        assert "4 of 4 boxes need a visit" in shown.text
        table = shown.text.split('id="visit-list"')[1]
        order = [table.index(f">R-{slug}-{c}</a>") for c in "ABCP"]
        # Silent boxes first (never heard), the one with only a flat battery after them.
        assert order[0] > max(order[1:])
        assert "Low battery" in table and "Silent" in table
        assert 'data-lat="53.79"' in table
        # Printable: the print styles hide the header and the map.
        assert "@media print" in (await browser.get("/static/console/console.css")).text


async def _audit(app: FastAPI, game: TestGame) -> list[AuditRecord]:
    async with state_of(app).sessionmaker() as s:
        rows = await s.scalars(
            select(AuditRecord)
            .where(AuditRecord.game_id == game.game_id, AuditRecord.action.like("reader.%"))
            .order_by(AuditRecord.id)
        )
        return list(rows)


async def test_rotating_a_secret_is_confirmed_shown_once_and_audited(
    app: FastAPI, slug: str
) -> None:
    game = await _game(app, slug)
    reader = f"R-{slug}-B"
    page = f"/console/games/{slug}/boxes/{reader}"
    async with await _organiser(app, game) as browser:
        shown = await browser.get(page)
        assert shown.status_code == 200 and f"Box {reader}" in shown.text
        asked = await browser.post(page + "/rotate", {}, page=page)
        assert asked.status_code == 200
        assert "Rotate this box&#39;s secret?" in asked.text
        assert await _audit(app, game) == []  # nothing done yet
        done = await browser.post(page + "/rotate", {"confirm": "yes"}, page=page)
        assert done.status_code == 201, done.text
        assert "shown only this once" in done.text
        secret = done.text.split('id="new-secret" type="text" value="')[1].split('"')[0]
        assert len(secret) >= 32
        again = await browser.get(page)
        assert secret not in again.text
        assert "rotate secret" in again.text.split('id="history"')[1]
        assert [r.action for r in await _audit(app, game)] == ["reader.rotate_secret"]


async def test_disabling_and_moving_a_box(
    app: FastAPI, client: httpx.AsyncClient, slug: str
) -> None:
    game = await _game(app, slug)
    reader = f"R-{slug}-A"
    page = f"/console/games/{slug}/boxes/{reader}"
    async with await _organiser(app, game) as browser:
        asked = await browser.post(page + "/disable", {}, page=page)
        assert "Disable this box?" in asked.text
        done = await browser.post(page + "/disable", {"confirm": "yes"}, page=page)
        assert done.status_code == 303
        shown = await browser.get(done.headers["location"])
        assert "has been disabled" in shown.text and "Enable the box" in shown.text
        done = await browser.post(page + "/enable", {"confirm": "yes"}, page=page)
        assert done.status_code == 303

        bad = await browser.post(page + "/move", {"checkpoint": "NOPE"}, page=page)
        assert bad.status_code == 422 and 'href="#checkpoint"' in bad.text
        future = {"checkpoint": "C", "from_date": "2027-05-09", "from_time": "10:00"}
        refused = await browser.post(page + "/move", {**future, "confirm": "yes"}, page=page)
        assert refused.status_code == 422 and 'href="#from_date"' in refused.text
        move = {"checkpoint": "C", "from_date": "04/05/2027", "from_time": "08:10"}
        asked = await browser.post(page + "/move", move, page=page)
        assert asked.status_code == 200 and "stands at Charlie (C)" in asked.text
        done = await browser.post(page + "/move", {**move, "confirm": "yes"}, page=page)
        assert done.status_code == 303, done.text
        shown = await browser.get(page)
        assert "Charlie (C)" in shown.text.split('id="placements"')[1]
        assert "move to C" in shown.text.split('id="history"')[1]
    actions = [r.action for r in await _audit(app, game)]
    assert actions == ["reader.disable", "reader.enable", "reader.move"]


async def _team_points(client: httpx.AsyncClient, slug: str) -> dict[str, int]:
    board = await client.get(f"/api/v1/games/{slug}/leaderboards/teams")
    assert board.status_code == 200, board.text
    return {e["team"]: e["points"] for e in board.json()["entries"]}


async def test_moving_a_box_place_is_previewed_then_re_scores_the_game(
    app: FastAPI, client: httpx.AsyncClient, slug: str
) -> None:
    game = await _game(app, slug)
    reader = f"R-{slug}-A"
    page = f"/console/games/{slug}/boxes/{reader}"
    # SCH1's card went P then A, 800 m in 15 minutes: one leg, 10 points.
    assert (await _team_points(client, slug))["SCH1"] == 10
    async with await _organiser(app, game) as browser:
        shown = await browser.get(page)
        assert 'id="lat" name="lat" type="text" value="53.79000"' in shown.text
        # Mistakes in both coordinates are shown at once, with what was typed.
        bad = await browser.post(page + "/place", {"lat": "north", "lon": "200"}, page=page)
        assert bad.status_code == 422
        assert 'href="#lat"' in bad.text and 'href="#lon"' in bad.text
        assert "The longitude must be a number of degrees between -180 and 180" in bad.text
        assert 'value="north"' in bad.text and 'value="200"' in bad.text
        same = await browser.post(page + "/place", {"lat": "53.79", "lon": "-2.24"}, page=page)
        assert same.status_code == 422 and "is already at 53.79000, -2.24000" in same.text

        # 9 km east: the 15-minute leg would be too fast to count.
        far = {"lat": "53.79", "lon": "-2.10"}
        asked = await browser.post(page + "/place", far, page=page)
        assert asked.status_code == 200, asked.text
        assert "Move this box&#39;s place?" in asked.text
        assert "moves from 53.79000, -2.24000 to 53.79000, -2.10000" in asked.text
        assert "3 taps are scored again and 10 points move" in asked.text
        team_row = asked.text.split("Team points that would change")[1].split("</table>")[0]
        assert "10</td>" in team_row and "0</td>" in team_row and "COM1" not in team_row
        assert 'name="lat" value="53.79"' in asked.text  # the confirming form
        assert (await _team_points(client, slug))["SCH1"] == 10  # nothing changed yet
        assert "53.79000, -2.24000" in (await browser.get(page)).text

        done = await browser.post(page + "/place", {**far, "confirm": "yes"}, page=page)
        assert done.status_code == 303, done.text
        assert (await _team_points(client, slug))["SCH1"] == 0
        shown = await browser.get(done.headers["location"])
        assert "place has been moved" in shown.text
        assert "Alpha (A), 53.79000, -2.10000" in shown.text
        history = shown.text.split('id="history"')[1]
        assert "moved from 53.79000, -2.24000 to 53.79000, -2.10000 (10 points moved)" in history
    records = await _audit(app, game)
    assert [r.action for r in records][-1] == "reader.place_moved"
    assert records[-1].detail["before"] == [53.79, -2.24]
    assert records[-1].detail["after"] == [53.79, -2.1] and records[-1].actor.startswith("staff:")


async def test_the_maps_use_the_one_tile_setting(
    app: FastAPI, client: httpx.AsyncClient, slug: str
) -> None:
    """``TAPTRAIL_MAP_TILES_URL`` feeds the console's maps and the public map page alike:
    the tile template on the page and its host (only) in the page's CSP; off, neither."""
    game = await _game(app, slug)
    async with await _organiser(app, game) as browser:
        for url in (f"/console/games/{slug}/boxes", f"/games/{slug}/boxes"):
            off = await browser.get(url)
            assert off.status_code == 200, url
            assert "tile.openstreetmap.org" not in off.text + off.headers["content-security-policy"]
        state_of(app).settings.map_tiles_url = OSM_TILES
        try:
            for url in (f"/console/games/{slug}/boxes", f"/games/{slug}/boxes"):
                on = await browser.get(url)
                assert OSM_TILES in on.text, url
                img = on.headers["content-security-policy"].split("img-src ")[1].split(";")[0]
                assert img == "'self' data: https://tile.openstreetmap.org", url
        finally:
            state_of(app).settings.map_tiles_url = None


def test_the_tile_setting_defaults_to_openstreetmap_and_none_turns_it_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TAPTRAIL_MAP_TILES_URL", raising=False)
    assert Settings(_env_file=None).map_tiles_url == OSM_TILES  # type: ignore[call-arg]
    for off in ("none", "None", "", "off"):
        assert Settings(map_tiles_url=off).map_tiles_url is None
    with pytest.raises(ValidationError, match="not a tile URL template"):
        Settings(map_tiles_url="http://tiles.example.org/{z}/{x}/{y}.png")
    with pytest.raises(ValidationError, match="not a tile URL template"):
        Settings(map_tiles_url="https://tiles.example.org/tile.png")


@pytest.mark.parametrize(
    "path",
    ["", "/overview.json", "/boxes", "/boxes/R-{slug}-A", "/setup", "/setup/game.yaml"],
)
async def test_only_organisers_of_the_game_open_the_pages(
    app: FastAPI, slug: str, path: str
) -> None:
    game = await _game(app, slug)
    other = await make_game(app, slug + "-x")
    page = f"/console/games/{slug}" + path.replace("{slug}", slug)
    for role, game_id, team_id in [
        ("team_manager", game.game_id, game.teams["SCH1"]),
        ("organiser", other.game_id, None),
        ("evaluator", game.game_id, None),
    ]:
        email = await make_user(app, role, game_id=game_id, team_id=team_id)
        async with Browser(app) as browser:
            assert (await browser.sign_in(email)).status_code == 303
            seen = await browser.get(page)
            assert seen.status_code == 403, (role, page, seen.status_code)
            assert "Alpha" not in seen.text
    async with Browser(app) as anonymous:
        assert (await anonymous.get(page)).status_code == 303


async def test_changes_to_a_box_need_the_form_token_and_an_organiser_of_the_game(
    app: FastAPI, slug: str
) -> None:
    game = await _game(app, slug)
    other = await make_game(app, slug + "-x")
    page = f"/console/games/{slug}/boxes/R-{slug}-B"
    async with await _organiser(app, game) as browser:
        forged = await browser.post(page + "/rotate", {"confirm": "yes"}, token="not-the-token")
        assert forged.status_code == 403
        elsewhere = await browser.post(
            page + "/rotate", {"confirm": "yes"}, page=page, origin="https://evil.example"
        )
        assert elsewhere.status_code == 403
    email = await make_user(app, game_id=other.game_id)
    async with Browser(app) as outsider:
        assert (await outsider.sign_in(email)).status_code == 303
        token = await outsider.token_from("/console/account")
        refused = await outsider.post(page + "/rotate", {"confirm": "yes"}, token=token)
        assert refused.status_code == 403
    assert await _audit(app, game) == []


async def test_setup_previews_a_changed_file_then_applies_it(
    app: FastAPI, client: httpx.AsyncClient, slug: str
) -> None:
    game = await _game(app, slug)
    page = f"/console/games/{slug}/setup"
    async with await _organiser(app, game) as browser:
        shown = await browser.get(page)
        assert shown.status_code == 200
        download = await browser.get(page + "/game.yaml")
        assert download.status_code == 200
        assert download.headers["content-disposition"] == f'attachment; filename="{slug}.yaml"'
        text = download.text
        assert "code: P" in text and "cards:" not in text and "secret" not in text.split("\n", 3)[3]
        # The current file, loaded back, changes nothing.
        same = await browser.post(page, {"file": text}, page=page)
        assert same.status_code == 200 and "The file changes nothing" in same.text

        # Broken: every problem against its line.
        broken = text.replace("points_per_leg: 10", "points_per_leg: -3").replace(
            "name: Bravo", "name: ''"
        )
        bad = await browser.post(page, {"file": broken}, page=page)
        assert bad.status_code == 422, bad.text
        assert 'href="#file"' in bad.text and "2 problem(s) in the file" in bad.text
        lines = broken.splitlines()
        leg_line = next(i for i, v in enumerate(lines, 1) if "points_per_leg: -3" in v)
        assert f"Line {leg_line}: game.rules.points_per_leg" in bad.text
        assert "checkpoints[1].name" in bad.text
        assert "points_per_leg: -3" in bad.text  # what was typed is kept

        # Twenty points a leg: SCH1's one leg of 10 points becomes 20, after a preview.
        changed = text.replace("points_per_leg: 10", "points_per_leg: 20")
        asked = await browser.post(page, {"file": changed}, page=page)
        assert asked.status_code == 200, asked.text
        assert "Check the changes before you apply them" in asked.text
        assert "points_per_leg 10 → 20" in asked.text
        teams = asked.text.split("Team points that would change")[1].split("</table>")[0]
        assert ">10</td>" in teams and ">20</td>" in teams
        board = await client.get(f"/api/v1/games/{slug}/leaderboards/teams")
        assert next(e["points"] for e in board.json()["entries"] if e["team"] == "SCH1") == 10
        done = await browser.post(page, {"file": changed, "confirm": "yes"}, page=page)
        assert done.status_code == 303, done.text
        board = await client.get(f"/api/v1/games/{slug}/leaderboards/teams")
        assert next(e["points"] for e in board.json()["entries"] if e["team"] == "SCH1") == 20
        assert "points_per_leg: 20" in (await browser.get(page + "/game.yaml")).text

        # Another game's slug is refused, and nothing changes.
        other = changed.replace(f"slug: {slug}", "slug: somewhere-else")
        refused = await browser.post(page, {"file": other, "confirm": "yes"}, page=page)
        assert refused.status_code == 422 and "does not match" in refused.text

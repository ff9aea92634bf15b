"""The console's Campaigns page: an organiser adds a campaign from the form, a back-dated
one is previewed (taps and points per team) before it is applied, overlaps are flagged,
and only organisers of the game may open it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from api.app_state import state_of
from api.deps import server_now
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
                T("0000001", "P", local(4, 8, 30)),  # into the park, SCH1's card
            ],
        )
        await s.commit()
    await state_of(app).after_game_change(game.game_id)
    app.dependency_overrides[server_now] = lambda: NOW
    return game


def _form(name: str, start: str, end: str, **extra: str) -> dict[str, str]:
    return {
        "name": name,
        "multiplier": "2",
        "starts_date": start,
        "starts_time": "00:00",
        "ends_date": end,
        "ends_time": "00:00",
        "tag-park": "yes",
        **extra,
    }


async def _organiser(app: FastAPI, game: TestGame) -> Browser:
    browser = Browser(app)
    email = await make_user(app, game_id=game.game_id)
    signed = await browser.sign_in(email)
    assert signed.status_code == 303, signed.text
    return browser


async def _sch1(client: httpx.AsyncClient, slug: str) -> int:
    board = await client.get(f"/api/v1/games/{slug}/leaderboards/teams")
    assert board.status_code == 200, board.text
    return next(e["points"] for e in board.json()["entries"] if e["team"] == "SCH1")


async def test_an_organiser_adds_double_points_in_the_parks_next_week(
    app: FastAPI, slug: str
) -> None:
    game = await _game(app, slug)
    page = f"/console/games/{slug}/campaigns"
    async with await _organiser(app, game) as browser:
        home = await browser.get("/console/")
        assert f'href="{page}"' in home.text
        made = await browser.post(page, _form("Parks week", "10/05/2027", "2027-05-17"))
        assert made.status_code == 303, made.text
        shown = await browser.get(page)
        assert shown.status_code == 200
        upcoming = shown.text.split('id="upcoming"')[1].split('id="past"')[0]
        assert "Parks week" in upcoming and "×2" in upcoming
        assert "Mon 10 May 2027 00:00" in upcoming and "Boxes tagged park" in upcoming
        history = shown.text.split('id="history"')[1]
        assert "campaign PARKS-WEEK: created" in history

        bad = await browser.post(page, _form("Backwards", "2027-05-12", "2027-05-11"))
        assert bad.status_code == 422
        assert "There is a problem" in bad.text and 'href="#ends_date"' in bad.text
        assert 'value="Backwards"' in bad.text  # what was typed is kept


async def test_a_back_dated_campaign_is_confirmed_with_the_points_it_moves(
    app: FastAPI, client: httpx.AsyncClient, slug: str
) -> None:
    game = await _game(app, slug)
    page = f"/console/games/{slug}/campaigns"
    assert await _sch1(client, slug) == 20
    async with await _organiser(app, game) as browser:
        asked = await browser.post(page, _form("Parks so far", "2027-05-01", "2027-05-08"))
        assert asked.status_code == 200, asked.text
        assert "Check before you apply this campaign" in asked.text
        assert "10 points move" in asked.text
        team_row = asked.text.split("Team points that would change")[1]
        assert "20</td>" in team_row and "30</td>" in team_row
        # Nothing has changed yet.
        assert "None." in asked.text.split('id="now"')[1].split('id="upcoming"')[0]
        assert await _sch1(client, slug) == 20

        confirmed = await browser.post(
            page, _form("Parks so far", "2027-05-01", "2027-05-08", confirm="yes")
        )
        assert confirmed.status_code == 303, confirmed.text
        assert await _sch1(client, slug) == 30
        shown = await browser.get(page)
        running = shown.text.split('id="now"')[1].split('id="upcoming"')[0]
        assert "Parks so far" in running


async def test_changing_a_campaign_back_in_time_is_previewed_then_confirmed(
    app: FastAPI, client: httpx.AsyncClient, slug: str
) -> None:
    game = await _game(app, slug)
    page = f"/console/games/{slug}/campaigns"
    async with await _organiser(app, game) as browser:
        made = await browser.post(page, _form("Parks week", "2027-05-10", "2027-05-17"))
        assert made.status_code == 303, made.text
        change = page + "/PARKS-WEEK"
        listed = await browser.get(page)
        assert f'href="{change}#change"' in listed.text
        opened = await browser.get(change)
        assert opened.status_code == 200 and "Change Parks week" in opened.text
        assert 'value="10/05/2027"' in opened.text and 'value="2"' in opened.text
        assert 'name="tag-park" type="checkbox" value="yes" checked' in opened.text
        assert (await browser.get(page + "/NOPE")).status_code == 404

        # Moved to start last week, three times the points: the park tap of 4 May moves.
        back = _form("Parks week", "2027-05-01", "2027-05-17", multiplier="3")
        asked = await browser.post(change, back, page=change)
        assert asked.status_code == 200, asked.text
        assert "Check before you change this campaign" in asked.text
        assert "20 points move" in asked.text
        team_row = asked.text.split("Team points that would change")[1]
        assert "20</td>" in team_row and "40</td>" in team_row
        assert f'action="{change}"' in asked.text
        assert await _sch1(client, slug) == 20  # nothing changed yet

        done = await browser.post(change, {**back, "confirm": "yes"}, page=change)
        assert done.status_code == 303, done.text
        assert await _sch1(client, slug) == 40
        shown = await browser.get(done.headers["location"])
        assert "The campaign has been changed." in shown.text
        running = shown.text.split('id="now"')[1].split('id="upcoming"')[0]
        assert "Parks week" in running and "×3" in running
        assert "campaign PARKS-WEEK: multiplier" in shown.text.split('id="history"')[1]

        # A change that stays in the future needs no preview; a mistake keeps the form.
        later = await browser.post(page, _form("Half term", "2027-06-01", "2027-06-08"))
        assert later.status_code == 303
        moved = await browser.post(
            page + "/HALF-TERM", _form("Half term", "2027-06-02", "2027-06-09"), page=change
        )
        assert moved.status_code == 303, moved.text
        bad = await browser.post(
            page + "/HALF-TERM", _form("Half term", "2027-06-09", "2027-06-02"), page=change
        )
        assert bad.status_code == 422 and 'value="2027-06-09"' in bad.text  # as typed
        assert "There is a problem" in bad.text and "Change Half term" in bad.text


async def test_an_overlapping_campaign_is_flagged(app: FastAPI, slug: str) -> None:
    game = await _game(app, slug)
    page = f"/console/games/{slug}/campaigns"
    async with await _organiser(app, game) as browser:
        first = await browser.post(page, _form("Parks week", "2027-05-10", "2027-05-17"))
        assert first.status_code == 303
        second = await browser.post(page, _form("Half term", "2027-05-15", "2027-05-20"))
        assert second.status_code == 303, second.text
        warned = await browser.get(second.headers["location"])
        assert "This campaign overlaps Parks week" in warned.text
        shown = await browser.get(page)
        assert "This campaign overlaps" not in shown.text
        assert "Overlaps Half term" in shown.text and "Overlaps Parks week" in shown.text


async def test_only_organisers_of_the_game_see_it(app: FastAPI, slug: str) -> None:
    game = await _game(app, slug)
    other = await make_game(app, slug + "-x")
    page = f"/console/games/{slug}/campaigns"
    for role, game_id, team_id in [
        ("team_manager", game.game_id, game.teams["SCH1"]),
        ("organiser", other.game_id, None),
        ("evaluator", game.game_id, None),
    ]:
        email = await make_user(app, role, game_id=game_id, team_id=team_id)
        async with Browser(app) as browser:
            assert (await browser.sign_in(email)).status_code == 303
            seen = await browser.get(page)
            assert seen.status_code == 403, (role, seen.status_code)
            assert "Parks" not in seen.text
            home = await browser.get("/console/")
            assert f'href="{page}"' not in home.text
            # Nor can they post to it (the CSRF token of their own console home).
            token = await browser.token_from("/console/account")
            posted = await browser.post(
                page, _form("Sneaky", "2027-05-10", "2027-05-17"), token=token
            )
            assert posted.status_code == 403, (role, posted.status_code)
    async with Browser(app) as anonymous:
        assert (await anonymous.get(page)).status_code == 303


async def test_an_unknown_game_is_404_for_an_organiser_of_every_game(app: FastAPI) -> None:
    email = await make_user(app)  # organiser of every game
    async with Browser(app) as browser:
        assert (await browser.sign_in(email)).status_code == 303
        seen = await browser.get("/console/games/no-such-game/campaigns")
        assert seen.status_code == 404


def _picked(name: str, start: str, end: str, *codes: str) -> dict[str, str]:
    form = _form(name, start, end, **{f"box-{c}": "yes" for c in codes})
    del form["tag-park"]
    return form


async def test_a_campaign_on_boxes_picked_one_by_one_is_added_and_changed(
    app: FastAPI, slug: str
) -> None:
    game = await _game(app, slug)
    page = f"/console/games/{slug}/campaigns"
    async with await _organiser(app, game) as browser:
        form = await browser.get(page)
        # Every box is a checkbox with its place (for the map), in groups by kind.
        assert 'id="box-A" name="box-A" type="checkbox" value="yes" data-lat=' in form.text
        assert "Boxes tagged park (1)" in form.text and "Boxes without a tag (3)" in form.text
        made = await browser.post(page, _picked("Canal week", "2027-05-10", "2027-05-17", "A", "C"))
        assert made.status_code == 303, made.text
        shown = await browser.get(page)
        upcoming = shown.text.split('id="upcoming"')[1].split('id="past"')[0]
        assert "Canal week" in upcoming and "boxes A, C" in upcoming

        change = page + "/CANAL-WEEK"
        opened = await browser.get(change)
        assert 'id="box-A" name="box-A" type="checkbox" value="yes"' in opened.text
        for code, ticked in (("A", True), ("B", False), ("C", True), ("P", False)):
            tag = opened.text.split(f'id="box-{code}"')[1].split(">")[0]
            assert ("checked" in tag) is ticked, code
        assert "Boxes without a tag (3, 2 picked)" in opened.text

        again = _picked("Canal week", "2027-05-10", "2027-05-17", "B", "C")
        done = await browser.post(change, again, page=change)
        assert done.status_code == 303, done.text
        shown = await browser.get(page)
        upcoming = shown.text.split('id="upcoming"')[1].split('id="past"')[0]
        assert "boxes B, C" in upcoming
        history = shown.text.split('id="history"')[1]
        change_made = "checkpoints [&#39;A&#39;, &#39;C&#39;] → [&#39;B&#39;, &#39;C&#39;]"
        assert f"campaign CANAL-WEEK: {change_made}" in history

        # Nothing picked, or a box the game does not have: an error against "Which boxes",
        # with what was typed kept.
        empty = await browser.post(page, _picked("Nowhere", "2027-05-10", "2027-05-17"))
        assert empty.status_code == 422 and 'href="#tags"' in empty.text
        assert "choose at least one kind of box or pick boxes" in empty.text.lower()
        unknown = await browser.post(page, _picked("Ghost", "2027-05-10", "2027-05-17", "A", "Z9"))
        assert unknown.status_code == 422 and 'href="#tags"' in unknown.text
        assert "No checkpoint(s) Z9 in game" in unknown.text and 'value="Ghost"' in unknown.text


async def test_the_campaign_form_takes_a_field_per_box_but_not_thousands(
    app: FastAPI, slug: str
) -> None:
    game = await _game(app, slug)
    page = f"/console/games/{slug}/campaigns"
    async with await _organiser(app, game) as browser:
        # 300 boxes' fields (more than other forms' 20): read, and each unknown box named.
        many = _picked("Big", "2027-05-10", "2027-05-17", "A", *[f"X{i}" for i in range(300)])
        read = await browser.post(page, many)
        assert read.status_code == 422, read.text[:300]
        assert "No checkpoint(s) X0, X1, X10," in read.text
        # 10,000 fields: refused whole, before anything is done.
        flood = _picked("Flood", "2027-05-10", "2027-05-17", *[f"X{i}" for i in range(10_000)])
        refused = await browser.post(page, flood)
        assert refused.status_code == 400
        assert "The form is too long" in refused.text and "more than 1020 fields" in refused.text
        # Other console forms keep the usual limit of 20.
        ended = await browser.post(page + "/NOPE/end", {f"f{i}": "x" for i in range(25)}, page=page)
        assert ended.status_code == 400 and "more than 20 fields" in ended.text
        assert "Flood" not in (await browser.get(page)).text

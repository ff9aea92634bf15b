"""The console's Help desk, People, Draws, My team and Evaluation pages: each does its job
from plain forms, refuses other roles and other games, and checks CSRF on every POST."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from api.app_state import state_of
from api.console.web import GAME_PAGES, game_pages_for
from api.deps import server_now
from kernel.audit import AuditRecord
from people.models import Player
from people.players import update_player
from people.schemas import MeUpdateIn
from tests.helpers import auth
from tests.scoring.taps import T, TestGame, insert_taps, local, make_game
from tests.staff.staff_helpers import Browser, make_user

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 5, 5, 12, 0, tzinfo=LONDON)
PLAYERS = [
    {"card": "0000001", "nickname": "Swift Fox", "age_band": "5-11", "team": "SCH1"},
    {"card": "0000002", "nickname": "Blue Heron", "age_band": "5-11", "team": "SCH1"},
    {
        "card": "0000004",
        "nickname": "Canal Kate",
        "age_band": "25-44",
        "team": "COM1",
        "public": True,
        "email": "kate@example.org",
    },
]


pytestmark = pytest.mark.usefixtures("clock_back")  # the games below set the clock


async def _game(app: FastAPI, slug: str) -> TestGame:
    game = await make_game(app, slug, players=PLAYERS)
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await insert_taps(
            s,
            game,
            [
                T("0000001", "A", local(3, 8, 0)),
                T("0000001", "B", local(3, 8, 15)),
                T("0000001", "A", local(4, 8, 0)),
                T("0000001", "B", local(4, 8, 15)),
                T("0000004", "A", local(4, 9, 0)),
                T("0000004", "B", local(4, 9, 15)),
            ],
        )
        await s.commit()
    await state_of(app).after_game_change(game.game_id)
    app.dependency_overrides[server_now] = lambda: NOW
    return game


async def _signed_in(app: FastAPI, role: str = "organiser", **scope: int | None) -> Browser:
    browser = Browser(app)
    email = await make_user(app, role, **scope)  # type: ignore[arg-type]
    signed = await browser.sign_in(email)
    assert signed.status_code == 303, signed.text
    return browser


async def _audit(app: FastAPI, game_id: int, action: str) -> list[AuditRecord]:
    """The game's audit records of ``action`` in the order they were written. Without the
    ORDER BY, PostgreSQL returns them in heap order: a record written later by another pooled
    connection (whose cached target page still has room) can come back first, which happened
    when other tests were writing at the same time."""
    async with state_of(app).sessionmaker() as s:
        return list(
            await s.scalars(
                select(AuditRecord)
                .where(AuditRecord.game_id == game_id, AuditRecord.action == action)
                .order_by(AuditRecord.id)
            )
        )


# ---------------------------------------------------------------- help desk


async def test_the_help_desk_finds_a_card_without_its_zeros_and_replaces_it(
    app: FastAPI, client: httpx.AsyncClient, slug: str
) -> None:
    game = await _game(app, slug)
    page = f"/console/games/{slug}/help-desk"
    async with await _signed_in(app, game_id=game.game_id) as browser:
        found = await browser.get(page + "?card=1")
        assert found.status_code == 200, found.text
        assert "Card 0000001" in found.text and "Swift Fox" in found.text
        assert "first counted tap: starts a journey" in found.text
        assert "leg of 800 m from A" in found.text
        # The form macro writes its attributes unescaped (an escaped one is invalid HTML).
        assert 'id="new_card" name="new_card" type="text" autocomplete="off"' in found.text
        assert 'inputmode="numeric"' in found.text and "&#34;" not in found.text
        missing = await browser.get(page + "?card=999")
        assert missing.status_code == 404 and "There is no card 999" in missing.text

        unknown = await browser.post(
            page + "/replace", {"card": "0000001", "new_card": "77"}, page=page + "?card=1"
        )
        assert unknown.status_code == 404 and "There is a problem" in unknown.text
        forged = await browser.post(
            page + "/replace", {"card": "0000001", "new_card": "9"}, token="not-the-token"
        )
        assert forged.status_code == 403

        replaced = await browser.post(
            page + "/replace", {"card": "1", "new_card": "9"}, page=page + "?card=1"
        )
        assert replaced.status_code == 303, replaced.text
        assert replaced.headers["location"].startswith(page + "?card=0000009")
        after = await browser.get(page + "?card=0000009")
        assert "Swift Fox" in after.text and "0000001" in after.text  # the old card
        old = await browser.get(page + "?card=0000001")
        assert "Replaced on" in old.text and "Replace this card" not in old.text


# ---------------------------------------------------------------- people


async def test_people_moderation_join_codes_members_access_and_erasure(
    app: FastAPI, client: httpx.AsyncClient, slug: str
) -> None:
    game = await _game(app, slug)
    page = f"/console/games/{slug}/people"
    async with await _signed_in(app, game_id=game.game_id) as browser:
        shown = await browser.get(page)
        assert shown.status_code == 200
        queue = shown.text.split('id="queue"')[1].split('id="teams"')[0]
        assert "Nicknames to review (3)" in shown.text
        assert all(n in queue for n in ("Swift Fox", "Blue Heron", "Canal Kate"))
        ids = await _player_ids(app, game.game_id)

        ok = await browser.post(f"{page}/nicknames/{ids['Swift Fox']}/approve", page=page)
        assert ok.status_code == 303
        no = await browser.post(f"{page}/nicknames/{ids['Canal Kate']}/reject", page=page)
        assert no.status_code == 303
        queue = (await browser.get(page)).text.split('id="queue"')[1].split('id="teams"')[0]
        assert "Blue Heron" in queue and "Swift Fox" not in queue and "Canal Kate" not in queue
        board = await client.get(f"/api/v1/games/{slug}/leaderboards/players")
        names = [e["nickname"] for e in board.json()["entries"]]
        assert "Canal Kate" not in names and f"Player {ids['Canal Kate']}" in names

        teams = (await browser.get(page)).text.split('id="teams"')[1]
        assert "CANAL234" in teams
        made = await browser.post(f"{page}/teams/COM1/join-code", page=page)
        assert made.status_code == 303
        teams = (await browser.get(page)).text.split('id="teams"')[1].split('id="find"')[0]
        assert "CANAL234" not in teams
        school = await browser.post(f"{page}/teams/SCH1/join-code", page=page)
        assert school.status_code == 409

        team_page = f"{page}/teams/SCH1"
        members = await browser.get(team_page)
        assert "Swift Fox" in members.text and "Blue Heron" in members.text
        gone = await browser.post(f"{team_page}/members/{ids['Blue Heron']}/remove", page=team_page)
        assert gone.status_code == 303
        assert "Blue Heron" not in (await browser.get(team_page)).text

        found = await browser.get(page + "?find=swift")
        assert f"/people/players/{ids['Swift Fox']}" in found.text
        by_card = await browser.get(page + "?find=0000004")
        assert f"/people/players/{ids['Canal Kate']}" in by_card.text
        player_page = f"{page}/players/{ids['Canal Kate']}"
        data = await browser.get(player_page + "/data.json")
        assert data.status_code == 200
        assert "attachment" in data.headers["content-disposition"]
        body = json.loads(data.text)
        assert body["player"]["email"] == "kate@example.org"
        assert [t["box"] for t in body["taps"]] == ["A", "B"]
        assert len(await _audit(app, game.game_id, "player.subject_access")) == 1

        unconfirmed = await browser.post(player_page + "/erase", page=player_page)
        assert unconfirmed.status_code == 422 and 'href="#confirm"' in unconfirmed.text
        erased = await browser.post(player_page + "/erase", {"confirm": "yes"}, page=player_page)
        assert erased.status_code == 303
        after = await browser.get(player_page)
        assert f"Erased player {ids['Canal Kate']}" in after.text
        assert (
            json.loads((await browser.get(player_page + "/data.json")).text)["player"]["email"]
            is None
        )


async def _player_ids(app: FastAPI, game_id: int) -> dict[str, int]:
    async with state_of(app).sessionmaker() as s:
        rows = await s.execute(select(Player.nickname, Player.id).where(Player.game_id == game_id))
        return {str(r[0]): int(r[1]) for r in rows}


async def test_a_changed_nickname_goes_back_to_the_queue(app: FastAPI, slug: str) -> None:
    game = await _game(app, slug)
    ids = await _player_ids(app, game.game_id)
    page = f"/console/games/{slug}/people"
    async with await _signed_in(app, game_id=game.game_id) as browser:
        await browser.post(f"{page}/nicknames/{ids['Canal Kate']}/approve", page=page)
        async with state_of(app).writing(), state_of(app).sessionmaker() as s:
            player = await s.get(Player, ids["Canal Kate"])
            assert player is not None and player.nickname_reviewed_at is not None
            await update_player(s, player, MeUpdateIn(nickname="Towpath Kate"))
            await s.commit()
        queue = (await browser.get(page)).text.split('id="queue"')[1].split('id="teams"')[0]
        assert "Towpath Kate" in queue


# ---------------------------------------------------------------- draws


async def test_draws_after_the_day_contacts_audited_and_prizes_sent(
    app: FastAPI, slug: str
) -> None:
    game = await _game(app, slug)
    page = f"/console/games/{slug}/draws"
    async with await _signed_in(app, game_id=game.game_id) as browser:
        bad = await browser.post(page + "/schedules", {"winners_per_day": "lots"}, page=page)
        assert bad.status_code == 422 and 'href="#winners_per_day"' in bad.text
        made = await browser.post(
            page + "/schedules", {"winners_per_day": "5", "from_date": "01/05/2027"}, page=page
        )
        assert made.status_code == 303
        early = await browser.post(page + "/run", {"date": "2027-05-05"}, page=page)
        assert early.status_code == 422 and "ends at 2027-05-06 00:00" in early.text
        drawn = await browser.post(page + "/run", {"date": "04/05/2027"}, page=page)
        assert drawn.status_code == 303, drawn.text
        shown = await browser.get(page)
        results = shown.text.split('id="made"')[1]
        assert "2 winners from 2 players" in results
        assert "Swift Fox" in results and "Canal Kate" in results
        assert "kate@example.org" not in shown.text

        draw_id = int(results.split('id="draw-')[1].split('"')[0])
        contacts = await browser.post(f"{page}/{draw_id}/contacts", page=page)
        assert contacts.status_code == 200 and "kate@example.org" in contacts.text
        assert len(await _audit(app, game.game_id, "draws.contacts_viewed")) == 1
        assert "kate@example.org" not in (await browser.get(page)).text

        sent = await browser.post(f"{page}/{draw_id}/winners/1/prize", {"sent": "yes"}, page=page)
        assert sent.status_code == 303
        shown = await browser.get(page)
        assert "Mark not sent" in shown.text and ">Sent</strong>" in shown.text
        assert len(await _audit(app, game.game_id, "draws.prize_sent")) == 1


# ---------------------------------------------------------------- my team


async def test_a_team_manager_sees_only_their_team(app: FastAPI, slug: str) -> None:
    game = await _game(app, slug)
    teacher = await _signed_in(
        app, "team_manager", game_id=game.game_id, team_id=game.teams["SCH1"]
    )
    async with teacher:
        home = await teacher.get("/console/")
        assert 'href="/console/my-team"' in home.text
        mine = await teacher.get("/console/my-team")
        assert mine.status_code == 200, mine.text
        assert "Alpha Primary" in mine.text and "Swift Fox" in mine.text
        assert "Canal Kate" not in mine.text  # another team's player
        assert f"/games/{slug}/board?kind=school&amp;team=SCH1" in mine.text
        row = mine.text.split("Swift Fox</th>")[1].split("</tr>")[0]
        # this week (Mon 3 May to Wed 5 May): 20 points on 2 days; 20 for the team
        assert [c.split(">")[-1] for c in row.split("</td>")[:3]] == ["20", "2", "20"]
        for page in ("help-desk", "people", "draws", "evaluation", "campaigns"):
            refused = await teacher.get(f"/console/games/{slug}/{page}")
            assert refused.status_code == 403, page


async def test_organiser_pages_refuse_other_games_and_roles(app: FastAPI, slug: str) -> None:
    game = await _game(app, slug)
    other = await make_game(app, slug + "-x")
    async with await _signed_in(app, game_id=other.game_id) as stranger:
        for page in ("help-desk", "people", "draws", "evaluation"):
            refused = await stranger.get(f"/console/games/{slug}/{page}")
            assert refused.status_code == 403, page
        refused = await stranger.post(
            f"/console/games/{slug}/draws/schedules",
            {"winners_per_day": "1"},
            page=f"/console/games/{other.slug}/draws",
        )
        assert refused.status_code == 403
    async with await _signed_in(app, "evaluator", game_id=game.game_id) as evaluator:
        for page in ("help-desk", "people", "draws"):
            assert (await evaluator.get(f"/console/games/{slug}/{page}")).status_code == 403
        assert (await evaluator.get("/console/my-team")).status_code == 403
    async with await _signed_in(app) as everyone:  # organiser of every game
        assert (await everyone.get(f"/console/games/{slug}/people")).status_code == 200


# ---------------------------------------------------------------- evaluation


async def test_an_evaluator_downloads_the_package_and_an_organiser_reads_the_report(
    app: FastAPI, client: httpx.AsyncClient, slug: str, organiser_token: str
) -> None:
    game = await _game(app, slug)
    made = await client.post(
        f"/api/v1/admin/games/{slug}/evaluation-projects",
        json={"name": "study"},
        headers=auth(organiser_token),
    )
    assert made.status_code == 201, made.text
    base = f"/console/games/{slug}/evaluation"
    async with await _signed_in(app, game_id=game.game_id) as organiser:
        page = await organiser.get(base)
        assert page.status_code == 200 and "Project study" in page.text
        assert "package.zip" not in page.text
        assert (await organiser.get(base + "/study/package.zip")).status_code == 403
        report = await organiser.get(base + "/report")
        assert report.status_code == 200
        assert f'data-session="{base}/report-data"' in report.text
        data = await organiser.get(base + "/report-data")
        assert data.status_code == 200 and data.json()["game"]["slug"] == slug
    async with await _signed_in(app, "evaluator", game_id=game.game_id) as evaluator:
        page = await evaluator.get(base)
        assert f'href="{base}/study/package.zip?format=csv"' in page.text
        zipped = await evaluator.get(base + "/study/package.zip?format=csv")
        assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
            assert "datapackage.json" in archive.namelist()
        players = await evaluator.get(base + "/study/players?format=csv")
        assert players.status_code == 200 and players.text.startswith("pseudonym")
        assert (await evaluator.get(base + "/nope/players")).status_code == 404
    recorded = await _audit(app, game.game_id, "evaluation.export")
    assert [(r.detail["file"], r.actor.split(":")[-1]) for r in recorded] == [
        ("package", "evaluator"),
        ("players", "evaluator"),
    ]


# ---------------------------------------------------------------- game navigation


async def test_the_game_navigation_shows_each_role_the_pages_it_may_open(
    app: FastAPI, slug: str
) -> None:
    game = await _game(app, slug)
    base = f"/console/games/{slug}"
    async with await _signed_in(app, game_id=game.game_id) as organiser:
        for page in GAME_PAGES:
            shown = await organiser.get(base + page.path)
            assert shown.status_code == 200, (page, shown.text[:300])
            nav = shown.text.split('<nav class="tt-game-nav')[1].split("</nav>")[0]
            links = re.findall(r'href="([^"]+)"', nav)
            assert links == [base + p.path for p in GAME_PAGES], page
            assert f'href="{base + page.path}" aria-current="page"' in nav
    async with await _signed_in(app, "evaluator", game_id=game.game_id) as evaluator:
        allowed = game_pages_for("evaluator")
        assert [p.path for p in allowed] == ["/evaluation"]
        for page in GAME_PAGES:
            status = (await evaluator.get(base + page.path)).status_code
            assert status == (200 if page in allowed else 403), page
        # one page only: no navigation offering links that would be refused
        shown = await evaluator.get(base + "/evaluation")
        assert "tt-game-nav" not in shown.text and f'href="{base}/people"' not in shown.text

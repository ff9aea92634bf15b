"""The family site: a parent's journey (three cards, points after taps, a team change, a
lost card, the data download, deleting the account), a player removed from the boards, a
13-or-over account code signed in on another phone, the language choice, and the Welsh
catalogue's completeness."""

from __future__ import annotations

import gzip
import json
import re
import uuid
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from api.app_state import state_of
from api.family import i18n
from api.family.survey_words import TEXTS
from evaluation import surveys as survey_service
from game import instruments
from harness.game_files import COM1_JOIN_CODE, game_file
from kernel.db import utcnow
from people.models import Player
from tests.helpers import auth
from tests.people.people_helpers import add_taps, journey, load_game, number
from tests.staff.staff_helpers import Browser, csrf_of

PASSWORD = "green kettle umbrella 7"


def _slug() -> str:
    return f"fam-{uuid.uuid4().hex[:10]}"


async def _create(browser: Browser, email: str | None) -> httpx.Response:
    data = {"kind": "email", "email": email or "", "password": PASSWORD, "confirm": PASSWORD}
    if email is None:
        data |= {"kind": "code", "age_13": "yes"}
    return await browser.post("/family/create", data)


async def _add(browser: Browser, slug: str, card: int, nickname: str, age: str, **extra: str):  # type: ignore[no-untyped-def]
    data = {
        "game": slug,
        "card_number": number(card),
        "activation_code": f"K{card:03d}",
        "nickname": nickname,
        "age_band": age,
        "gender": "prefer_not_to_say",
        **extra,
    }
    return await browser.post("/family/add", data, page=f"/family/add?game={slug}")


def test_every_string_has_a_welsh_translation_and_the_template_is_current() -> None:
    source = {m.id for m in i18n.source_strings() if m.id}
    welsh = i18n.catalogue("cy")
    untranslated = [
        m.id
        for m in welsh
        if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string]))
    ]
    assert untranslated == []
    assert source <= {m.id for m in welsh}, "run python -m api.family.i18n and translate"


def test_every_welsh_string_keeps_the_placeholders_of_its_english_one() -> None:
    wrong = []
    for m in i18n.catalogue("cy"):
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        texts = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set(re.findall(r"%\(\w+\)s", " ".join(ids)))
        for text in texts:
            if set(re.findall(r"%\(\w+\)s", text)) != wanted:
                wrong.append((ids[0], text))
    assert wrong == []


def test_checking_in_at_a_box_is_never_worded_as_registering_in_welsh() -> None:
    # "Cofrestru" is registering (a card, an account); checking in at a place is not that.
    welsh = i18n.translations("cy")
    found = {
        m.id: welsh.gettext(m.id)
        for m in i18n.catalogue("cy")
        if isinstance(m.id, str) and re.search(r"check(ed|ing)?[ -]in", m.id, re.I)
    }
    assert len(found) >= 15
    assert {k: v for k, v in found.items() if "cofrest" in v.lower()} == {}
    assert welsh.gettext("Check in here") == "Nodi fy mod i yma"


async def test_a_parent_registers_three_cards_and_sees_points_after_taps(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str
) -> None:
    slug = _slug()
    game = await load_game(client, app, organiser_token, slug)
    email = f"parent-{uuid.uuid4().hex[:8]}@example.org"
    async with Browser(app) as phone:
        made = await _create(phone, email)
        assert made.status_code == 303 and made.headers["location"] == "/family/?notice=created"
        # A mistake keeps the good values and names the field.
        wrong = await _add(phone, slug, 4, "Swift Kestrel", "5-11", activation_code="K999")
        assert wrong.status_code == 422 and "do not match" in wrong.text
        assert 'value="Swift Kestrel"' in wrong.text
        for card, nickname, age in ((4, "Swift Kestrel", "5-11"), (5, "Bold Heron", "12-15")):
            added = await _add(phone, slug, card, nickname, age, team="SCH1", public="yes")
            assert added.status_code == 303, added.text
        adult = await _add(
            phone, slug, 6, "Walking Dad", "25-44", team="COM1", join_code=COM1_JOIN_CODE
        )
        assert adult.status_code == 303, adult.text
        await add_taps(app, game, number(4), journey(utcnow() - timedelta(hours=2)))
        home = await phone.get("/family/")
        assert home.status_code == 200
        assert home.text.count('class="tt-card"') == 3
        assert re.search(r'tt-points">20<', home.text), home.text
        assert "Alpha Primary" in home.text and "Canal Walkers" in home.text
        # The under-16 is shown on public boards by a made-up name, not the nickname.
        async with state_of(app).sessionmaker() as s:
            kid = await s.scalar(
                select(Player).where(Player.game_id == game.id, Player.nickname == "Swift Kestrel")
            )
            assert kid is not None and kid.public_name
        assert kid.public_name in home.text
        # A team change, then a lost card replaced by card 7.
        moved = await phone.post(
            f"/family/players/{kid.id}/team",
            {"team": "COM1", "join_code": COM1_JOIN_CODE},
            page=f"/family/players/{kid.id}",
        )
        assert moved.status_code == 303
        lost = await phone.post(
            f"/family/players/{kid.id}/card",
            {"new_card_number": number(7), "new_activation_code": "K007"},
            page=f"/family/players/{kid.id}",
        )
        assert lost.status_code == 303, lost.text
        page = await phone.get(f"/family/players/{kid.id}")
        assert number(7) in page.text and "replaced" in page.text
        assert re.search(r'tt-points">20<', page.text)
        # Another family cannot open this player.
        async with Browser(app) as other:
            await _create(other, f"other-{uuid.uuid4().hex[:8]}@example.org")
            assert (await other.get(f"/family/players/{kid.id}")).status_code == 404
        # Everything held, as JSON and CSV.
        data = json.loads((await phone.get("/family/data.json")).text)
        assert data["account"]["email"] == email
        assert {p["nickname"] for p in data["players"]} == {
            "Swift Kestrel",
            "Bold Heron",
            "Walking Dad",
        }
        csv_text = (await phone.get("/family/data.csv")).text
        assert csv_text.splitlines()[0].startswith("game,player_id,nickname")
        assert "Alpha" in csv_text and "Bravo" in csv_text
        # Deleting the account erases the players; their points stay with the team.
        gone = await phone.post("/family/delete", {})
        assert gone.status_code == 303
        assert (await phone.get("/family/")).status_code == 303
    async with state_of(app).sessionmaker() as s:
        players = (await s.scalars(select(Player).where(Player.game_id == game.id))).all()
        assert len(players) == 3 and all(p.erased_at and p.nickname is None for p in players)


async def test_a_player_of_13_opens_their_account_on_another_phone(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str
) -> None:
    async with Browser(app) as phone:
        shown = await _create(phone, None)
        assert shown.status_code == 200
        code = re.search(r'id="account-code">([A-Z0-9-]+)<', shown.text)
        recovery = re.search(r'id="recovery-code">([A-Z0-9-]+)<', shown.text)
        assert code and recovery
        assert (await phone.get("/family/")).status_code == 200
    async with Browser(app) as other:
        bad = await other.post(
            "/family/sign-in", {"name": code.group(1), "password": "not it at all"}
        )
        assert bad.status_code == 401 and "not right" in bad.text
        good = await other.post(
            "/family/sign-in", {"name": code.group(1).lower(), "password": PASSWORD}
        )
        assert good.status_code == 303 and good.headers["location"] == "/family/"
    async with Browser(app) as third:
        new = "purple otter canoe 55"
        again = await third.post(
            "/family/recover",
            {
                "account_code": code.group(1),
                "recovery_code": recovery.group(1),
                "password": new,
                "confirm": new,
            },
        )
        assert again.status_code == 200 and recovery.group(1) not in again.text
        assert (await third.get("/family/")).status_code == 200


async def test_the_language_follows_the_switch_the_browser_and_the_game(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str
) -> None:
    slug = _slug()
    await load_game(client, app, organiser_token, slug)
    async with Browser(app) as phone:
        page = await phone.get(f"/games/{slug}")
        assert '<html lang="en"' in page.text and "How to play" in page.text
        welsh = await phone.client.get(
            f"/games/{slug}", headers={"Accept-Language": "cy, en;q=0.5"}
        )
        assert '<html lang="cy"' in welsh.text and "Sut i chwarae" in welsh.text
        switched = await phone.get(f"/language/cy?next=/games/{slug}")
        assert switched.status_code == 303 and switched.headers["location"] == f"/games/{slug}"
        assert '<html lang="cy"' in (await phone.get("/")).text
        assert (await phone.get("/language/en?next=//evil.example")).headers["location"] == "/"
    # A game offering English only shows English whatever the visitor asked for.
    english = _slug()

    data = game_file(english)
    data["game"]["languages"] = ["en"]
    done = await client.put(
        f"/api/v1/admin/games/{english}", json=data, headers=auth(organiser_token)
    )
    assert done.status_code == 200, done.text
    page = await client.get(f"/games/{english}", headers={"Accept-Language": "cy"})
    assert '<html lang="en"' in page.text and "Cymraeg" not in page.text


async def test_welsh_pages_contain_no_english_source_strings(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str
) -> None:
    slug = _slug()
    await load_game(client, app, organiser_token, slug)
    welsh = i18n.translations("cy")
    english = [
        m.id
        for m in i18n.catalogue("cy")
        if isinstance(m.id, str)
        and m.id
        and len(m.id) > 12
        and "%(" not in m.id
        and welsh.gettext(m.id) != m.id
    ]
    async with Browser(app) as phone:
        await phone.get("/language/cy?next=/")
        await _create(phone, f"cy-{uuid.uuid4().hex[:8]}@example.org")
        await _add(phone, slug, 8, "Cadno Cyflym", "5-11")
        pages = [
            "/",
            f"/games/{slug}",
            "/privacy",
            "/cookies",
            "/family/",
            f"/family/add?game={slug}",
            "/family/data",
            "/family/delete",
            "/family/sign-out",
            "/family/accessibility",
            f"/games/{slug}/boxes",
            f"/games/{slug}/board?team=SCH1",
        ]
        home = (await phone.get("/family/")).text
        pages += sorted(set(re.findall(r'href="(/family/players/\d+[^"]*)"', home)))
        for path in pages:
            text = (await phone.get(path)).text
            assert '<html lang="cy"' in text, path
            leaked = [s for s in english if s in text]
            assert leaked == [], (path, leaked)


def test_every_survey_text_is_in_the_catalogue_with_a_welsh_translation() -> None:
    texts = {w.title for w in survey_service.WAVES.values()}
    for wave in survey_service.WAVES:
        for item in survey_service.questions(wave, instruments.INSTRUMENTS)["items"]:
            texts |= {item["text"], item.get("intro") or item["text"]}
            texts |= {str(a["label"]) for a in item["answers"] if not str(a["label"]).isdigit()}
    assert sorted(texts - set(TEXTS)) == []
    welsh = i18n.translations("cy")
    assert [t for t in texts if welsh.gettext(t) == t] == []


async def test_a_parent_answers_the_survey_for_a_young_child(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str
) -> None:
    slug = _slug()
    game = await load_game(client, app, organiser_token, slug)
    data = game_file(slug)
    data["game"].update(
        starts_at=(utcnow() - timedelta(days=20)).isoformat(),
        ends_at=(utcnow() + timedelta(days=20)).isoformat(),
        instruments=["activity", "belonging", "nature", "ons4", "loneliness"],
    )
    done = await client.put(f"/api/v1/admin/games/{slug}", json=data, headers=auth(organiser_token))
    assert done.status_code == 200, done.text
    async with Browser(app) as phone:
        await _create(phone, f"survey-{uuid.uuid4().hex[:8]}@example.org")
        await _add(phone, slug, 4, "Little Wren", "5-11")
        await _add(phone, slug, 6, "Tall Mum", "25-44")
        async with state_of(app).sessionmaker() as s:
            ids = {
                p.nickname: p.id
                for p in await s.scalars(select(Player).where(Player.game_id == game.id))
            }
        kid, mum = ids["Little Wren"], ids["Tall Mum"]
        # A closed wave is not offered and cannot be opened.
        assert "/surveys/1" not in (await phone.get(f"/family/players/{kid}")).text
        assert (await phone.get(f"/family/players/{kid}/surveys/1")).status_code == 404
        opened = await client.post(
            f"/api/v1/admin/games/{slug}/surveys/1/open", headers=auth(organiser_token)
        )
        assert opened.status_code == 200, opened.text
        assert (
            f"/family/players/{kid}/surveys/1" in (await phone.get(f"/family/players/{kid}")).text
        )
        # The child is not asked the well-being or loneliness questions; the adult is.
        form = (await phone.get(f"/family/players/{kid}/surveys/1")).text
        assert 'name="activity_days"' in form and 'name="nature_part"' in form
        assert 'name="life_satisfaction"' not in form and 'name="loneliness"' not in form
        assert re.search(r'value="parent_or_carer" checked', form)
        assert form.count('value="prefer_not_to_say"') == 8
        adult = (await phone.get(f"/family/players/{mum}/surveys/1")).text
        assert 'name="life_satisfaction"' in adult and 'name="loneliness"' in adult
        assert not re.search(r'value="parent_or_carer" checked', adult)
        # A wrong value is named, and the good answers are kept.
        page = f"/family/players/{kid}/surveys/1"
        wrong = await phone.post(
            page,
            {"answered_by": "parent_or_carer", "activity_days": "9", "belonging": "fairly"},
        )
        assert wrong.status_code == 422 and 'href="#activity_days"' in wrong.text
        assert 'value="fairly" checked' in wrong.text
        # An answer to a question the child is not asked is ignored, not stored.
        saved = await phone.post(
            page,
            {
                "answered_by": "parent_or_carer",
                "activity_days": "3",
                "belonging": "prefer_not_to_say",
                "nature_happy": "6",
                "life_satisfaction": "4",
            },
        )
        assert saved.status_code == 303 and saved.headers["location"].endswith("notice=survey")
        again = (await phone.get(page)).text
        assert 'value="3" checked' in again and 'value="prefer_not_to_say" checked' in again
        mine = json.loads((await phone.get("/family/data.json")).text)
        wren = next(p for p in mine["players"] if p["nickname"] == "Little Wren")
        [answers] = wren["survey_answers"]
        assert answers["answered_by"] == "parent_or_carer"
        assert answers["answers"]["activity_days"] == 3
        assert answers["answers"]["belonging"] == "prefer_not_to_say"
        assert answers["answers"]["nature_happy"] == 6
        assert answers["answers"]["life_satisfaction"] is None
        # In Welsh.
        await phone.get("/language/cy?next=/")
        welsh = (await phone.get(page)).text
        assert "Pa mor aml" not in welsh and "Yn ystod yr wythnos ddiwethaf" in welsh
        # Closed again: the form is refused.
        await client.post(
            f"/api/v1/admin/games/{slug}/surveys/1/close", headers=auth(organiser_token)
        )
        late = await phone.post(page, {"answered_by": "self"}, token=csrf_of(welsh))
        assert late.status_code == 404


async def test_the_accessibility_statement_is_reachable_in_welsh_from_the_footer(
    app: FastAPI,
) -> None:
    async with Browser(app) as phone:
        games = await phone.client.get("/", headers={"Accept-Language": "cy"})
        assert 'href="/family/accessibility"' in games.text
        statement = await phone.client.get(
            "/family/accessibility", headers={"Accept-Language": "cy"}
        )
        assert statement.status_code == 200 and '<html lang="cy"' in statement.text
        assert "Datganiad hygyrchedd" in statement.text and "WCAG" not in statement.text
        assert "Canllawiau Hygyrchedd Cynnwys y We" in statement.text


async def test_static_files_are_compressed_and_pages_with_a_form_token_are_not(
    app: FastAPI,
) -> None:
    async with Browser(app) as phone:
        gz = {"Accept-Encoding": "gzip"}
        url = "/static/family/vendor/govuk-frontend-5.14.0/govuk-frontend.min.css"
        async with phone.client.stream("GET", url, headers=gz) as css:
            assert css.headers["content-encoding"] == "gzip"
            sent = b"".join([chunk async for chunk in css.aiter_raw()])
        assert len(sent) < len(gzip.decompress(sent)) / 3
        page = await phone.client.get("/family/sign-in", headers=gz)
        assert page.status_code == 200 and "content-encoding" not in page.headers


async def test_the_map_lists_every_box_with_parks_and_bonus_points_marked(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str
) -> None:
    slug = _slug()
    await load_game(client, app, organiser_token, slug)
    now = utcnow()
    campaign = {
        "code": "PARKS",
        "name": "Park fortnight",
        "multiplier": 2,
        "starts_at": (now - timedelta(days=1)).isoformat(),
        "ends_at": (now + timedelta(days=3)).isoformat(),
        "checkpoint_tags": ["park"],
    }
    added = await client.post(
        f"/api/v1/admin/games/{slug}/campaigns",
        json=campaign,
        headers={"Authorization": f"Bearer {organiser_token}"},
    )
    assert added.status_code in (200, 201), added.text
    settings = state_of(app).settings
    settings.map_tiles_url = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    try:
        async with Browser(app) as phone:
            page = await phone.client.get(f"/games/{slug}/boxes", headers={"Accept-Language": "cy"})
    finally:
        settings.map_tiles_url = None
    assert page.status_code == 200 and '<html lang="cy"' in page.text
    assert (
        "img-src 'self' data: https://tile.openstreetmap.org;"
        in (page.headers["content-security-policy"])
    )
    assert "© cyfranwyr OpenStreetMap" in page.text
    items = re.findall(
        r'<li class="tt-box"[^>]*data-name="([^"]+)"[^>]*data-kind="(\w+)"', page.text
    )
    assert sorted(items) == [
        ("Alpha", "box"),
        ("Bravo", "box"),
        ("Charlie", "box"),
        ("Park gate", "bonus"),
    ]
    assert "Park fortnight" in page.text and "mewn parc" in page.text


async def test_the_old_map_address_moves_permanently_to_the_map_of_the_boxes(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str
) -> None:
    slug = _slug()
    await load_game(client, app, organiser_token, slug)
    moved = await client.get(f"/games/{slug}/map")
    assert moved.status_code == 301 and moved.headers["location"] == f"/games/{slug}/boxes"
    assert (await client.get("/games/no-such-game-x9/map")).status_code == 404
    # A tile template with subdomains allows images from those subdomains only.
    settings = state_of(app).settings
    settings.map_tiles_url = "https://{s}.tile.example.org/{z}/{x}/{y}.png"
    try:
        page = await client.get(f"/games/{slug}/boxes")
    finally:
        settings.map_tiles_url = None
    assert 'data-tiles="https://{s}.tile.example.org/{z}/{x}/{y}.png"' in page.text
    img = page.headers["content-security-policy"].split("img-src ")[1].split(";")[0]
    assert img == "'self' data: https://a.tile.example.org https://*.tile.example.org"


async def test_the_footer_is_the_shared_partial_in_the_pages_language(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    from api.family import web

    assert (web.SHARED_TEMPLATES / "footer.html").is_file()
    for language, words in (("en", ("Privacy", "Cookies")), ("cy", ("Preifatrwydd", "Cwcis"))):
        page = await client.get("/privacy", headers={"Accept-Language": language})
        footer = page.text.split('<footer class="govuk-footer">')[1].split("</footer>")[0]
        links = re.findall(r'<a class="govuk-footer__link" href="([^"]+)">([^<]+)</a>', footer)
        assert [href for href, _ in links] == ["/privacy", "/cookies", "/family/accessibility"]
        assert [label for _, label in links][:2] == list(words)
        assert "GOV.UK Frontend" in footer


async def test_static_files_are_cached_for_a_year_only_at_addresses_that_never_change(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str
) -> None:
    from api.family import web

    slug = _slug()
    await load_game(client, app, organiser_token, slug)
    home = await client.get(f"/games/{slug}")
    css = re.search(r'href="(/static/family/family\.css\?v=[0-9a-f]{12})"', home.text)
    assert css, "the stylesheet's address carries its fingerprint"
    forever = "public, max-age=31536000, immutable"
    assert (await client.get(css[1])).headers["cache-control"] == forever
    for stale in ("/static/family/family.css", "/static/family/family.css?v=000000000000"):
        assert (await client.get(stale)).headers["cache-control"] == "public, max-age=3600"
    vendored = await client.get(f"{web.LEAFLET}/leaflet.js")
    assert vendored.status_code == 200 and vendored.headers["cache-control"] == forever
    assert (await client.get(f"{web.LEAFLET}/images/marker-icon.png")).status_code == 200
    for outside in ("vendor/swagger-ui-dist-5.35.0/swagger-ui.css", "../pages.py", "vendor/"):
        assert (await client.get(f"/static/family/{outside}")).status_code == 404, outside
    # No script holds up a page's first drawing, and Leaflet is on the map page only, where
    # map.js fetches it after the page is drawn.
    the_map = await client.get(f"/games/{slug}/boxes")
    for page in (home, the_map):
        scripts = re.findall(r"<script[^>]*>", page.text)
        assert all(" defer" in s or " async" in s for s in scripts), scripts
        assert "<link" not in page.text.split("</head>")[1], "stylesheets in the head only"
    assert "leaflet" not in home.text
    assert "leaflet.js" not in the_map.text.split("</head>")[0]
    assert f'data-leaflet-js="{web.LEAFLET}/leaflet.js"' in the_map.text


async def test_the_hall_board_speaks_the_visitors_language_among_the_games(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str
) -> None:
    from harness.game_files import game_file
    from tests.helpers import auth

    slug = _slug()
    await load_game(client, app, organiser_token, slug)
    board = f"/games/{slug}/board?team=SCH1"
    english = await client.get(board)
    assert '<html lang="en"' in english.text and "Pause updates" in english.text
    welsh = await client.get(board, headers={"Accept-Language": "cy, en;q=0.5"})
    assert welsh.headers["content-language"] == "cy" and '<html lang="cy"' in welsh.text
    assert "Oedi’r diweddariadau" in welsh.text and "Cyfanswm y pwyntiau" in welsh.text
    words = json.loads(welsh.text.split('id="board-words">')[1].split("</script>")[0])
    assert words["status.live"] == "Byw" and words["unit.points"] == "pwynt"
    assert "script-src 'self'" in welsh.headers["content-security-policy"]
    # The switch: a cookie, back to the same board with its team.
    async with Browser(app) as screen:
        moved = await screen.get(f"/language/cy?next={board}")
        assert moved.headers["location"] == board
        again = await screen.get(board)
        assert '<html lang="cy"' in again.text
        assert 'href="/language/en?next=/games/' in again.text
    # A game in English only: the board is in English, with no switch.
    only = _slug()
    data = game_file(only)
    data["game"]["languages"] = ["en"]
    done = await client.put(f"/api/v1/admin/games/{only}", json=data, headers=auth(organiser_token))
    assert done.status_code == 200, done.text
    page = await client.get(f"/games/{only}/board", headers={"Accept-Language": "cy"})
    assert '<html lang="en"' in page.text and "Cymraeg" not in page.text


async def test_a_removed_player_is_erased_and_leaves_the_rebuilt_board(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str
) -> None:
    slug = _slug()
    game = await load_game(client, app, organiser_token, slug)
    async with Browser(app) as phone:
        await _create(phone, f"remove-{uuid.uuid4().hex[:8]}@example.org")
        added = await _add(phone, slug, 9, "Quiet Otter", "5-11", team="SCH1", public="yes")
        assert added.status_code == 303, added.text
        await add_taps(app, game, number(9), journey(utcnow() - timedelta(hours=2)))
        async with state_of(app).sessionmaker() as s:
            otter = await s.scalar(
                select(Player).where(Player.game_id == game.id, Player.nickname == "Quiet Otter")
            )
            assert otter is not None and otter.public_name
        board = f"/api/v1/games/{slug}/leaderboards/players?limit=100"
        assert otter.public_name in (await client.get(board)).text
        removed = await phone.post(
            f"/family/players/{otter.id}/remove", {}, page=f"/family/players/{otter.id}/remove"
        )
        assert removed.status_code == 303 and removed.headers["location"] == (
            "/family/?notice=removed"
        )
        assert (await phone.get(f"/family/players/{otter.id}")).status_code == 404
    assert otter.public_name not in (await client.get(board)).text
    async with state_of(app).sessionmaker() as s:
        row = await s.get(Player, otter.id)
        assert row is not None and row.erased_at and row.nickname is None

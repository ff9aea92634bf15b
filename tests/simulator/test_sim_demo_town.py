"""The shipped demo town: burnley-demo.yaml and its illustrative deprivation files."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from kernel.geodesy import haversine_m
from taptrail.demo import (
    DEMO_GAME_FILE,
    DEMO_IMD_FILE,
    DEMO_POSTCODES_FILE,
    load_demo_definition,
)
from taptrail.demo.generate import ACTIVATION_ALPHABET, demo_secret, render_all
from taptrail.demo.town_data import IMD_HEADER

TODAY = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
AGE_BANDS = {"0-4", "5-11", "12-15", "16-24", "25-44", "45-64", "65+"}
TEAM_KINDS = {"school", "community", "workplace", "family", "other"}
GENDERS = {"girl", "boy", "woman", "man", "non-binary", "prefer_not_to_say"}
# Official IoD2019 File 7 headers (the last one really ends with a space).
OFFICIAL_FIRST_HEADERS = [
    "LSOA code (2011)",
    "LSOA name (2011)",
    "Local Authority District code (2019)",
    "Local Authority District name (2019)",
    "Index of Multiple Deprivation (IMD) Score",
    "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
    "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
]


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    return load_demo_definition()


def normalise_postcode(text: str) -> str:
    compact = re.sub(r"\s+", "", text.upper())
    return f"{compact[:-3]} {compact[-3:]}"


def nspl_rows() -> list[dict[str, str]]:
    with DEMO_POSTCODES_FILE.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def imd_rows() -> list[dict[str, str]]:
    with DEMO_IMD_FILE.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_committed_files_are_what_the_generator_writes() -> None:
    files = render_all()
    for path in (DEMO_GAME_FILE, DEMO_IMD_FILE, DEMO_POSTCODES_FILE):
        assert path.read_bytes() == files[path.name].encode("utf-8"), (
            f"{path.name} is stale: run python -m taptrail.demo.generate"
        )


def test_generator_is_deterministic_and_seeded() -> None:
    assert render_all(7) == render_all(7)
    assert render_all(7)["burnley-demo.yaml"] != render_all(8)["burnley-demo.yaml"]


def test_game(demo: dict[str, Any]) -> None:
    game = demo["game"]
    assert game["slug"] == "burnley-demo"
    assert game["name"] == "Burnley Beat the Street (demo)"
    assert game["timezone"] == "Europe/London"
    starts, ends = game["starts_at"], game["ends_at"]
    assert isinstance(starts, datetime) and starts.tzinfo is not None
    assert starts <= TODAY < ends
    assert (ends - starts).days == 42  # six weeks
    assert game["rules"] == {
        "journey_window_minutes": 60,
        "points_per_leg": 10,
        "max_speed_kmh": 25,
        "max_points_per_day": None,
        "min_members_for_average": 5,
    }


def test_checkpoints_are_in_burnley(demo: dict[str, Any]) -> None:
    cps = demo["checkpoints"]
    assert 38 <= len(cps) <= 42
    codes = [c["code"] for c in cps]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"BB0\d\d", c) for c in codes)
    for c in cps:
        assert 53.76 <= c["lat"] <= 53.81, c
        assert -2.29 <= c["lon"] <= -2.20, c
        assert c["name"] and isinstance(c["tags"], list)
    tags = Counter(t for c in cps for t in c["tags"])
    assert tags["park"] >= 8
    assert tags["canal"] >= 4
    assert tags["school"] >= 4
    assert tags["town-centre"] >= 2
    assert tags["station"] == 4  # Central, Barracks, Manchester Road, Rose Grove
    mobile = [c for c in cps if c.get("active_from") or c.get("active_to")]
    assert 1 <= len(mobile) <= 2
    for c in mobile:
        assert c["active_from"] < c["active_to"]
        assert demo["game"]["starts_at"] <= c["active_from"] < demo["game"]["ends_at"]


def test_neighbours_are_a_walk_apart(demo: dict[str, Any]) -> None:
    cps = demo["checkpoints"]
    nearest = []
    for a in cps:
        d = min(haversine_m(a["lat"], a["lon"], b["lat"], b["lon"]) for b in cps if b is not a)
        nearest.append(d)
        assert 100 <= d <= 1000, a["code"]
    nearest.sort()
    assert 200 <= nearest[len(nearest) // 2] <= 900


def test_readers(demo: dict[str, Any]) -> None:
    codes = {c["code"] for c in demo["checkpoints"]}
    readers = demo["readers"]
    assert len({r["id"] for r in readers}) == len(readers) == len(codes)
    assert {r["checkpoint"] for r in readers} == codes
    for r in readers:
        assert r["id"] == f"R-{r['checkpoint']}"
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", r["secret"])
        assert r["secret"] == demo_secret(r["id"])
    assert "NEVER" in DEMO_GAME_FILE.read_text(encoding="utf-8")  # the warning comment


def test_teams_and_campaigns(demo: dict[str, Any]) -> None:
    teams = demo["teams"]
    assert len(teams) == 10
    assert len({t["code"] for t in teams}) == 10
    kinds = Counter(t["kind"] for t in teams)
    assert set(kinds) <= TEAM_KINDS
    assert kinds["school"] >= 4 and kinds["community"] >= 1
    assert kinds["workplace"] >= 1 and kinds["family"] >= 1
    cps = {c["code"]: c for c in demo["checkpoints"]}
    campaigns = {c["code"]: c for c in demo["campaigns"]}
    parks = campaigns["PARKS-DOUBLE"]
    assert parks["multiplier"] == 2 and parks["checkpoint_tags"] == ["park"]
    assert parks["starts_at"] <= TODAY < parks["ends_at"]
    assert demo["game"]["starts_at"] <= parks["starts_at"] < parks["ends_at"]
    assert parks["ends_at"] <= demo["game"]["ends_at"]
    others = [c for code, c in campaigns.items() if code != "PARKS-DOUBLE"]
    assert others
    for c in others:
        assert set(c["age_bands"]) <= AGE_BANDS
        assert all(code in cps for code in c["checkpoints"])
    triple = next(c for c in others if c["multiplier"] == 3)
    assert triple["age_bands"] == ["5-11"]
    assert triple["starts_at"].weekday() == 5  # a Saturday
    box = cps[triple["checkpoints"][0]]
    assert box.get("active_from") is not None  # the mobile event box


def test_cards(demo: dict[str, Any]) -> None:
    cards = demo["cards"]
    assert 300 <= len(cards) <= 500
    uids = [c["uid"] for c in cards]
    assert len(set(uids)) == len(uids)
    for c in cards:
        assert re.fullmatch(r"04[0-9A-F]{12}", c["uid"]), c
        assert re.fullmatch(r"\d{7}", c["number"])
        groups = c["activation_code"].split("-")
        assert [len(g) for g in groups] == [4, 4, 4], c
        assert set("".join(groups)) <= set(ACTIVATION_ALPHABET)
    assert len({c["number"] for c in cards}) == len(cards)
    teams = {t["code"]: t for t in demo["teams"]}
    issued = [c for c in cards if c.get("team")]
    assert all(teams[c["team"]]["kind"] == "school" for c in issued)
    assert 0.25 <= len(issued) / len(cards) <= 0.4


def test_players(demo: dict[str, Any]) -> None:
    players = demo["players"]
    assert 180 <= len(players) <= 220
    cards = {c["number"]: c for c in demo["cards"]}
    teams = {t["code"] for t in demo["teams"]}
    assert len({p["card"] for p in players}) == len(players)
    nicknames = [p["nickname"].casefold() for p in players]
    assert len(set(nicknames)) == len(nicknames)
    with_team = 0
    for p in players:
        assert p["card"] in cards
        assert p["age_band"] in AGE_BANDS
        assert p["gender"] in GENDERS
        assert isinstance(p["public"], bool)
        assert re.fullmatch(r"BB1[012] \d[A-Z]{2}", p["postcode"]), p
        if p.get("team"):
            with_team += 1
            assert p["team"] in teams
            issued_to = cards[p["card"]].get("team")
            assert issued_to in (None, p["team"])
    assert with_team / len(players) > 0.6
    assert 0 < sum(p["public"] for p in players) < len(players)


def test_every_player_postcode_is_in_the_lookup(demo: dict[str, Any]) -> None:
    rows = nspl_rows()
    lookup = {normalise_postcode(r["pcds"]): r for r in rows}
    for p in demo["players"]:
        assert normalise_postcode(p["postcode"]) in lookup, p["postcode"]
    assert len(lookup) > len({p["postcode"] for p in demo["players"]})  # some extra
    terminated = [r for r in rows if r["doterm"]]
    assert len(terminated) == 1
    imd_codes = {r["LSOA code (2011)"] for r in imd_rows()}
    assert {r["lsoa11"] for r in rows} <= imd_codes
    for r in rows:
        assert r["laua"] == "E07000117"
        assert len(r["pcd"]) == 7 and r["pcd"].replace(" ", "") == r["pcds"].replace(" ", "")
        assert normalise_postcode(r["pcd"]) == r["pcds"]


def test_nspl_format() -> None:
    first_line = DEMO_POSTCODES_FILE.read_text(encoding="utf-8").splitlines()[0]
    columns = first_line.split(",")
    for name in ("pcd", "pcd2", "pcds", "dointr", "doterm", "lsoa11", "lat", "long", "imd"):
        assert name in columns
    assert columns[:3] == ["pcd", "pcd2", "pcds"]


def test_imd_sample_has_the_official_shape() -> None:
    raw = DEMO_IMD_FILE.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert header == list(IMD_HEADER)
    assert header[: len(OFFICIAL_FIRST_HEADERS)] == OFFICIAL_FIRST_HEADERS
    assert "Total population: mid 2015 (excluding prisoners)" in header
    assert '"' in raw.decode("utf-8-sig").splitlines()[1]  # quoted numbers with commas
    rows = imd_rows()
    assert 25 <= len(rows) <= 35
    deciles: Counter[int] = Counter()
    for r in rows:
        assert re.fullmatch(r"E01024\d{3}", r["LSOA code (2011)"])
        assert re.fullmatch(r"Burnley \d{3}[A-E]", r["LSOA name (2011)"])
        assert r["Local Authority District code (2019)"] == "E07000117"
        assert r["Local Authority District name (2019)"] == "Burnley"
        rank = int(r[OFFICIAL_FIRST_HEADERS[5]].replace(",", ""))
        decile = int(r[OFFICIAL_FIRST_HEADERS[6]])
        assert 1 <= rank <= 32844 and decile == (rank - 1) * 10 // 32844 + 1
        population = int(r["Total population: mid 2015 (excluding prisoners)"].replace(",", ""))
        assert 1000 <= population <= 3000
        deciles[decile] += 1
    assert deciles[1] + deciles[2] > len(rows) / 2  # skewed deprived, as Burnley is
    assert len({r["LSOA code (2011)"] for r in rows}) == len(rows)

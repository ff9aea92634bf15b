"""Write the demo town's files deterministically from a seed.

    python -m taptrail.demo.generate            # rewrite the committed files (seed 2026)
    python -m taptrail.demo.generate --check    # exit 1 if the committed files are stale

Outputs (beside this module):

- ``burnley-demo.yaml``: the game definition (docs/running-a-game/game-file.md).
- ``imd-sample.csv``: an illustrative IoD2019 "File 7" extract (docs/evaluation.md), UTF-8 with a
  byte-order mark and quoted numbers with thousands separators, as councils download it.
- ``postcodes-sample.csv``: an illustrative ONS NSPL extract mapping every demo player's
  postcode (and some more, one of them terminated) to the LSOAs of the IMD sample.

The checkpoints are real places on real streets of Burnley. Their coordinates are best
estimates (several are taken from published coordinates of the landmark; the rest are
placed from local knowledge) and should be within about 50-150 m. The deprivation figures
and postcode lookups are NOT official values: they only have the official formats.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import math
import random
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from kernel import csv_writer
from people.activation import ALPHABET, LENGTH, grouped

DEFAULT_SEED = 2026
OUT_DIR = Path(__file__).resolve().parent
YAML_NAME = "burnley-demo.yaml"
IMD_NAME = "imd-sample.csv"
NSPL_NAME = "postcodes-sample.csv"

LAD_CODE = "E07000117"
LAD_NAME = "Burnley"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


GAME_STARTS = _utc("2026-11-16T00:00:00+00:00")
GAME_ENDS = _utc("2026-12-28T00:00:00+00:00")

# --------------------------------------------------------------------------------------
# Checkpoints: (code, name, lat, lon, tags, active_from, active_to)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointSpec:
    code: str
    name: str
    lat: float
    lon: float
    tags: tuple[str, ...]
    active_from: datetime | None = None
    active_to: datetime | None = None


CHECKPOINTS: tuple[CheckpointSpec, ...] = (
    # Town centre
    CheckpointSpec(
        "BB001", "Central Library, Grimshaw Street", 53.7878, -2.2416, ("library", "town-centre")
    ),
    CheckpointSpec(
        "BB002", "St Peter's Church, Church Street", 53.7927, -2.2399, ("town-centre", "heritage")
    ),
    # Stations
    CheckpointSpec(
        "BB003", "Burnley Central station, Railway Street", 53.7934, -2.2452, ("station",)
    ),
    CheckpointSpec(
        "BB004", "Burnley Barracks station, Padiham Road", 53.7910, -2.2578, ("station",)
    ),
    CheckpointSpec("BB005", "Burnley Manchester Road station", 53.7858, -2.2493, ("station",)),
    CheckpointSpec("BB006", "Rose Grove station", 53.7862, -2.2815, ("station",)),
    CheckpointSpec("BB007", "Turf Moor, Harry Potts Way", 53.7892, -2.2303, ("sport",)),
    # Leeds and Liverpool Canal towpath
    CheckpointSpec(
        "BB008",
        "Weavers' Triangle, Burnley Wharf",
        53.7864,
        -2.2464,
        ("canal", "heritage", "town-centre"),
    ),
    CheckpointSpec(
        "BB009", "Canal towpath at Victoria Mill, Trafalgar Street", 53.7898, -2.2543, ("canal",)
    ),
    CheckpointSpec("BB010", "Gannow Tunnel east portal", 53.7920, -2.2660, ("canal",)),
    CheckpointSpec("BB011", "Dugdale Wharf, Lowerhouse Lane", 53.7898, -2.2819, ("canal",)),
    CheckpointSpec("BB012", "Finsley Gate Wharf", 53.7843, -2.2398, ("canal",)),
    CheckpointSpec(
        "BB013",
        "The Straight Mile, above Yorkshire Street",
        53.7886,
        -2.2375,
        ("canal", "heritage"),
    ),
    CheckpointSpec("BB014", "Sandy Holme Aqueduct, Thompson Park", 53.7971, -2.2345, ("canal",)),
    # Parks
    CheckpointSpec("BB015", "Towneley Park gates, Todmorden Road", 53.7790, -2.2262, ("park",)),
    CheckpointSpec("BB016", "Towneley Hall", 53.7745, -2.2222, ("park", "heritage")),
    CheckpointSpec(
        "BB017", "Towneley Park, Unity College path", 53.7815, -2.2245, ("park", "school")
    ),
    CheckpointSpec("BB018", "Fulledge Recreation Ground", 53.7850, -2.2280, ("park",)),
    CheckpointSpec("BB019", "Queen's Park gates, Queen Victoria Road", 53.7962, -2.2318, ("park",)),
    CheckpointSpec("BB020", "Thompson Park gates, Ormerod Road", 53.7943, -2.2385, ("park",)),
    CheckpointSpec("BB021", "Scott Park gates", 53.7812, -2.2560, ("park",)),
    CheckpointSpec("BB022", "Ightenhill Park, Ightenhill Park Lane", 53.7975, -2.2730, ("park",)),
    # Streets and neighbourhoods
    CheckpointSpec("BB023", "Padiham Road at Gannow Lane", 53.7945, -2.2650, ("shops",)),
    CheckpointSpec("BB024", "Coal Clough Lane", 53.7800, -2.2605, ("school",)),
    CheckpointSpec("BB025", "Manchester Road, Rosehill", 53.7835, -2.2518, ("neighbourhood",)),
    CheckpointSpec("BB026", "Branch Road, Burnley Wood", 53.7812, -2.2405, ("school",)),
    CheckpointSpec("BB027", "Hufling Lane, Burnley Wood", 53.7791, -2.2361, ("neighbourhood",)),
    CheckpointSpec("BB028", "Brunshaw Road, Brunshaw", 53.7900, -2.2195, ("neighbourhood",)),
    CheckpointSpec("BB029", "Colne Road, Duke Bar", 53.8025, -2.2380, ("shops",)),
    CheckpointSpec("BB030", "Casterton Avenue", 53.8060, -2.2270, ("school",)),
    CheckpointSpec("BB031", "Briercliffe Road, Heasandford", 53.8015, -2.2290, ("neighbourhood",)),
    CheckpointSpec("BB032", "Lowerhouse Lane, Lowerhouse", 53.7885, -2.2870, ("neighbourhood",)),
    CheckpointSpec("BB033", "Pike Hill", 53.7965, -2.2170, ("neighbourhood",)),
    CheckpointSpec("BB034", "Stoneyholme", 53.7975, -2.2470, ("neighbourhood",)),
    CheckpointSpec("BB035", "Daneshouse", 53.8010, -2.2440, ("neighbourhood",)),
    CheckpointSpec("BB036", "Whittlefield", 53.7955, -2.2580, ("neighbourhood",)),
    CheckpointSpec("BB037", "Rosegrove", 53.7880, -2.2750, ("shops",)),
    CheckpointSpec("BB038", "Barden Lane", 53.8060, -2.2450, ("school",)),
    # Mobile boxes at events
    CheckpointSpec(
        "BB039",
        "Christmas market, St James's Street (mobile)",
        53.7890,
        -2.2425,
        ("town-centre", "event"),
        _utc("2026-11-21T09:00:00+00:00"),
        _utc("2026-12-24T18:00:00+00:00"),
    ),
    CheckpointSpec(
        "BB040",
        "Towneley fun day marquee (mobile)",
        53.7768,
        -2.2238,
        ("park", "event"),
        _utc("2026-11-28T09:00:00+00:00"),
        _utc("2026-11-28T16:00:00+00:00"),
    ),
)

FUN_DAY_BOX = "BB040"


@dataclass(frozen=True)
class TeamSpec:
    code: str
    name: str
    kind: str
    home_sectors: tuple[str, ...] = ()


# Generic names that do not claim to be any particular real school.
TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec("SCH-TOWNELEY", "Towneley Juniors", "school", ("BB11 2", "BB11 3")),
    TeamSpec("SCH-CANALSIDE", "Canal Side Primary", "school", ("BB11 1", "BB12 0")),
    TeamSpec("SCH-WEAVERS", "Weavers Primary", "school", ("BB11 4", "BB11 1")),
    TeamSpec("SCH-HILLSIDE", "Hillside Juniors", "school", ("BB10 3", "BB10 2")),
    TeamSpec("SCH-BRUNVALE", "Brun Vale Primary", "school", ("BB10 1", "BB10 3")),
    TeamSpec("COM-STRIDERS", "Queen's Park Striders", "community"),
    TeamSpec("COM-TOWPATH", "Friends of the Towpath", "community"),
    TeamSpec("WRK-WHARF", "Wharf Office Walkers", "workplace"),
    TeamSpec("FAM-ASHWORTH", "The Ashworths", "family"),
    TeamSpec("FAM-KHAN", "Team Khan", "family"),
)

CAMPAIGNS: tuple[dict[str, Any], ...] = (
    {
        "code": "PARKS-DOUBLE",
        "name": "Double points in the parks",
        "multiplier": 2,
        "starts_at": _utc("2026-11-23T00:00:00+00:00"),
        "ends_at": _utc("2026-12-07T00:00:00+00:00"),
        "checkpoint_tags": ["park"],
        "checkpoints": [],
        "age_bands": [],
    },
    {
        "code": "FUNDAY-TRIPLE",
        "name": "Triple points for 5-11s at the Towneley fun day",
        "multiplier": 3,
        "starts_at": _utc("2026-11-28T09:00:00+00:00"),
        "ends_at": _utc("2026-11-28T16:00:00+00:00"),
        "checkpoint_tags": [],
        "checkpoints": [FUN_DAY_BOX],
        "age_bands": ["5-11"],
    },
)

RULES: dict[str, Any] = {
    "journey_window_minutes": 60,
    "points_per_leg": 10,
    "max_speed_kmh": 25,
    "max_points_per_day": None,
    "min_members_for_average": 5,
}

#: the demo asks every survey instrument, so its report shows every section
INSTRUMENTS = ("activity", "belonging", "nature", "ons4", "loneliness")
N_CARDS = 400
SCHOOL_CARDS_PER_TEAM = 27  # 5 schools x 27 = 135 cards, about a third
SCHOOL_PLAYERS_PER_TEAM = 16
OTHER_PLAYERS = 120  # 80 school + 120 others = 200 registrations
OTHER_TEAM_SIZES = {
    "COM-STRIDERS": 20,
    "COM-TOWPATH": 15,
    "WRK-WHARF": 20,
    "FAM-ASHWORTH": 8,
    "FAM-KHAN": 8,
}

# No 0/O, 1/I: easy to read off a printed card.
ACTIVATION_ALPHABET = ALPHABET
AGE_BANDS = ("0-4", "5-11", "12-15", "16-24", "25-44", "45-64", "65+")
CHILD_BANDS = frozenset({"0-4", "5-11", "12-15"})
# The documented gender set: girl/boy for under-16s, woman/man for adults, and
# non-binary or prefer_not_to_say for anyone.
GENDERS = ("girl", "boy", "woman", "man", "non-binary", "prefer_not_to_say")

ADJECTIVES = (
    "Swift",
    "Brave",
    "Jolly",
    "Mighty",
    "Nimble",
    "Sunny",
    "Clever",
    "Lucky",
    "Happy",
    "Bouncy",
    "Speedy",
    "Zippy",
    "Plucky",
    "Cheery",
    "Dashing",
    "Gentle",
    "Bold",
    "Breezy",
    "Sparky",
    "Quick",
    "Merry",
    "Rapid",
    "Steady",
    "Daring",
    "Eager",
    "Fearless",
    "Frosty",
    "Golden",
    "Hardy",
    "Keen",
    "Lively",
    "Misty",
    "Noble",
    "Proud",
    "Rosy",
    "Silver",
    "Stormy",
    "Tidy",
    "Wild",
    "Witty",
)
ANIMALS = (
    "Fox",
    "Otter",
    "Badger",
    "Heron",
    "Hare",
    "Owl",
    "Robin",
    "Kestrel",
    "Squirrel",
    "Hedgehog",
    "Kingfisher",
    "Deer",
    "Swan",
    "Mallard",
    "Wren",
    "Stoat",
    "Curlew",
    "Lapwing",
    "Pheasant",
    "Falcon",
    "Magpie",
    "Blackbird",
    "Dipper",
    "Moorhen",
    "Vole",
    "Weasel",
    "Toad",
    "Newt",
    "Salmon",
    "Trout",
    "Buzzard",
    "Goldfinch",
    "Sparrow",
    "Starling",
    "Thrush",
    "Jay",
    "Pony",
    "Lamb",
    "Collie",
    "Terrier",
)

# --------------------------------------------------------------------------------------
# Illustrative geography: postcode sectors and the LSOAs in them
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectorSpec:
    sector: str  # e.g. "BB10 1"
    msoa: int  # the "Burnley 0NN" number of its LSOAs
    deciles: tuple[int, ...]  # one IMD decile per LSOA (skewed deprived, as Burnley is)
    lat: float  # rough centre, for the postcode centroids
    lon: float
    ward: str


SECTORS: tuple[SectorSpec, ...] = (
    SectorSpec("BB10 2", 1, (3, 5, 7), 53.8050, -2.2230, "E05005155"),
    SectorSpec("BB10 1", 3, (1, 1, 1), 53.8000, -2.2430, "E05005154"),
    SectorSpec("BB12 0", 4, (2, 3, 5), 53.7960, -2.2620, "E05005164"),
    SectorSpec("BB10 3", 5, (1, 2, 4), 53.7960, -2.2220, "E05005150"),
    SectorSpec("BB12 8", 6, (2, 3), 53.7980, -2.2980, "E05005159"),
    SectorSpec("BB11 1", 7, (1, 1, 2), 53.7890, -2.2500, "E05005163"),
    SectorSpec("BB12 6", 8, (1, 2, 3), 53.7870, -2.2800, "E05005160"),
    SectorSpec("BB10 4", 9, (6, 4), 53.7860, -2.2120, "E05005152"),
    SectorSpec("BB11 2", 10, (1, 1, 2), 53.7820, -2.2380, "E05005161"),
    SectorSpec("BB11 4", 11, (7, 9), 53.7800, -2.2560, "E05005156"),
    SectorSpec("BB11 3", 12, (4, 6), 53.7760, -2.2350, "E05005158"),
    SectorSpec("BB11 5", 13, (8, 9), 53.7700, -2.2280, "E05005153"),
)

UNITS_PER_SECTOR = 8
UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # inward-code letters never use C, I, K, M, O, V
N_LSOAS_ENGLAND = 32844
IMD_SCORE_BY_RANK = (
    (1, 92.7),
    (3284, 34.2),
    (6569, 27.0),
    (9853, 21.4),
    (13138, 17.2),
    (16422, 13.8),
    (19706, 10.9),
    (22991, 8.4),
    (26275, 6.1),
    (29560, 3.9),
    (32844, 0.5),
)
INCOME_BY_RANK = (
    (1, 0.64),
    (3284, 0.25),
    (6569, 0.19),
    (9853, 0.15),
    (13138, 0.12),
    (16422, 0.095),
    (19706, 0.075),
    (22991, 0.058),
    (26275, 0.043),
    (29560, 0.03),
    (32844, 0.004),
)
EMPLOYMENT_BY_RANK = (
    (1, 0.55),
    (3284, 0.21),
    (6569, 0.16),
    (9853, 0.13),
    (13138, 0.105),
    (16422, 0.085),
    (19706, 0.068),
    (22991, 0.053),
    (26275, 0.04),
    (29560, 0.028),
    (32844, 0.004),
)
EDUCATION_BY_RANK = (
    (1, 99.4),
    (3284, 45.1),
    (6569, 34.6),
    (9853, 27.3),
    (13138, 21.6),
    (16422, 16.8),
    (19706, 12.7),
    (22991, 9.1),
    (26275, 5.9),
    (29560, 3.1),
    (32844, 0.02),
)
HEALTH_BY_RANK = (
    (1, 3.9),
    (3284, 1.1),
    (6569, 0.75),
    (9853, 0.45),
    (13138, 0.2),
    (16422, -0.02),
    (19706, -0.25),
    (22991, -0.5),
    (26275, -0.75),
    (29560, -1.05),
    (32844, -3.2),
)

IMD_HEADER = (
    "LSOA code (2011)",
    "LSOA name (2011)",
    "Local Authority District code (2019)",
    "Local Authority District name (2019)",
    "Index of Multiple Deprivation (IMD) Score",
    "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
    "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
    "Income Score (rate)",
    "Income Rank (where 1 is most deprived)",
    "Income Decile (where 1 is most deprived 10% of LSOAs)",
    "Employment Score (rate)",
    "Employment Rank (where 1 is most deprived)",
    "Employment Decile (where 1 is most deprived 10% of LSOAs)",
    "Education, Skills and Training Score",
    "Education, Skills and Training Rank (where 1 is most deprived)",
    "Education, Skills and Training Decile (where 1 is most deprived 10% of LSOAs)",
    "Health Deprivation and Disability Score",
    "Health Deprivation and Disability Rank (where 1 is most deprived)",
    "Health Deprivation and Disability Decile (where 1 is most deprived 10% of LSOAs)",
    "Total population: mid 2015 (excluding prisoners)",
    "Dependent Children aged 0-15: mid 2015 (excluding prisoners)",
    "Population aged 16-59: mid 2015 (excluding prisoners)",
    "Older population aged 60 and over: mid 2015 (excluding prisoners)",
    # The official header really ends with a space.
    "Working age population 18-59/64: for use with Employment Deprivation Domain "
    "(excluding prisoners) ",
)

# ONS National Statistics Postcode Lookup (2011-geography releases, e.g. May 2022).
NSPL_HEADER = (
    "pcd",
    "pcd2",
    "pcds",
    "dointr",
    "doterm",
    "usertype",
    "oseast1m",
    "osnrth1m",
    "osgrdind",
    "oa11",
    "cty",
    "ced",
    "laua",
    "ward",
    "hlthau",
    "nhser",
    "ctry",
    "rgn",
    "pcon",
    "eer",
    "teclec",
    "ttwa",
    "pct",
    "itl",
    "park",
    "lsoa11",
    "msoa11",
    "wz11",
    "ccg",
    "bua11",
    "buasd11",
    "ru11ind",
    "oac11",
    "lat",
    "long",
    "lep1",
    "lep2",
    "pfa",
    "imd",
    "calncv",
    "stp",
)

TERMINATED_POSTCODE = "BB10 1QX"
TERMINATED_DOTERM = "201506"


# --------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------


def demo_secret(reader_id: str) -> str:
    """The fixed demo secret of a reader: 43 base64url characters of sha256("demo:"+id).

    Only for the demo: a real game's secrets are random and never committed.
    """
    digest = hashlib.sha256(f"demo:{reader_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def reader_id_for(code: str) -> str:
    return f"R-{code}"


@dataclass
class Lsoa:
    code: str
    name: str
    msoa_code: str
    sector: str
    decile: int
    rank: int
    score: float
    domains: dict[str, tuple[float, int, int]]  # name -> (score, rank, decile)
    population: tuple[int, int, int, int, int]  # total, 0-15, 16-59, 60+, working age


@dataclass
class Postcode:
    pcds: str
    lsoa: Lsoa
    lat: float
    lon: float
    dointr: str
    doterm: str = ""


@dataclass
class DemoData:
    definition: dict[str, Any]
    lsoas: list[Lsoa]
    postcodes: list[Postcode]
    players_postcodes: set[str] = field(default_factory=set)


def _interp(table: Sequence[tuple[int, float]], rank: int) -> float:
    for (r0, v0), (r1, v1) in zip(table, table[1:], strict=False):
        if r0 <= rank <= r1:
            return v0 + (v1 - v0) * (rank - r0) / (r1 - r0)
    return table[-1][1]


def decile_of(rank: int) -> int:
    """IoD deciles: decile 1 holds ranks 1..3284 (the most deprived 10% of 32,844)."""
    return min(10, math.floor((rank - 1) * 10 / N_LSOAS_ENGLAND) + 1)


def _rank_in_decile(rng: random.Random, decile: int, used: set[int]) -> int:
    lo = math.ceil((decile - 1) * N_LSOAS_ENGLAND / 10) + 1
    hi = math.floor(decile * N_LSOAS_ENGLAND / 10)
    while True:
        rank = rng.randint(lo, hi)
        if rank not in used and decile_of(rank) == decile:
            used.add(rank)
            return rank


def build_lsoas(rng: random.Random) -> list[Lsoa]:
    drafts: list[tuple[str, SectorSpec, int]] = []
    for spec in SECTORS:
        for i, decile in enumerate(spec.deciles):
            drafts.append((f"{LAD_NAME} {spec.msoa:03d}{'ABCDE'[i]}", spec, decile))
    drafts.sort(key=lambda d: d[0])
    used: set[int] = set()
    lsoas: list[Lsoa] = []
    for i, (name, spec, decile) in enumerate(drafts):
        rank = _rank_in_decile(rng, decile, used)
        domains: dict[str, tuple[float, int, int]] = {}
        for dname, table, digits in (
            ("Income", INCOME_BY_RANK, 3),
            ("Employment", EMPLOYMENT_BY_RANK, 3),
            ("Education, Skills and Training", EDUCATION_BY_RANK, 3),
            ("Health Deprivation and Disability", HEALTH_BY_RANK, 3),
        ):
            drank = max(1, min(N_LSOAS_ENGLAND, rank + round(rng.gauss(0, 2200))))
            domains[dname] = (round(_interp(table, drank), digits), drank, decile_of(drank))
        total = rng.randint(1250, 2450)
        children = round(total * rng.uniform(0.17, 0.27))
        older = round(total * rng.uniform(0.14, 0.30))
        middle = total - children - older
        working = round(middle * rng.uniform(1.05, 1.12))
        lsoas.append(
            Lsoa(
                code=f"E0102{4840 + i:04d}",
                name=name,
                msoa_code=f"E0200{5290 + spec.msoa:04d}",
                sector=spec.sector,
                decile=decile,
                rank=rank,
                score=round(_interp(IMD_SCORE_BY_RANK, rank), 3),
                domains=domains,
                population=(total, children, middle, older, working),
            )
        )
    return lsoas


def build_postcodes(rng: random.Random, lsoas: list[Lsoa]) -> list[Postcode]:
    by_sector: dict[str, list[Lsoa]] = {}
    for lsoa in lsoas:
        by_sector.setdefault(lsoa.sector, []).append(lsoa)
    postcodes: list[Postcode] = []
    for spec in SECTORS:
        digit = spec.sector[-1]
        units: set[str] = set()
        while len(units) < UNITS_PER_SECTOR:
            unit = digit + rng.choice(UNIT_LETTERS) + rng.choice(UNIT_LETTERS)
            if f"{spec.sector[:-2]} {unit}" != TERMINATED_POSTCODE:
                units.add(unit)
        sector_lsoas = by_sector[spec.sector]
        for i, unit in enumerate(sorted(units)):
            postcodes.append(
                Postcode(
                    pcds=f"{spec.sector[:-2]} {unit}",
                    lsoa=sector_lsoas[i % len(sector_lsoas)],
                    lat=round(spec.lat + rng.uniform(-0.0035, 0.0035), 6),
                    lon=round(spec.lon + rng.uniform(-0.0055, 0.0055), 6),
                    dointr=f"{rng.choice((1980, 1985, 1992, 1998, 2003, 2011))}"
                    f"{rng.choice(('01', '04', '06', '08', '10', '12'))}",
                )
            )
    terminated_lsoa = by_sector["BB10 1"][0]
    postcodes.append(
        Postcode(
            TERMINATED_POSTCODE, terminated_lsoa, 53.800712, -2.243903, "198001", TERMINATED_DOTERM
        )
    )
    postcodes.sort(key=lambda p: p.pcds)
    return postcodes


def _uid(rng: random.Random, used: set[str]) -> str:
    while True:
        uid = "04" + "".join(rng.choice("0123456789ABCDEF") for _ in range(12))
        if uid not in used:
            used.add(uid)
            return uid


def _activation_code(rng: random.Random, code_rng: random.Random) -> str:
    """A card's code in the format of people.activation. The first four characters come
    from the town's generator, as when codes had four, so that everything drawn after the
    cards (players, postcodes) stays as it was; the rest from a generator of their own."""
    head = "".join(rng.choice(ACTIVATION_ALPHABET) for _ in range(4))
    tail = "".join(code_rng.choice(ACTIVATION_ALPHABET) for _ in range(LENGTH - 4))
    return grouped(head + tail)


def _nicknames(rng: random.Random, n: int) -> list[str]:
    combos = [f"{a} {b}" for a in ADJECTIVES for b in ANIMALS]
    rng.shuffle(combos)
    seen: set[str] = set()
    out: list[str] = []
    for nick in combos:
        if nick.casefold() not in seen:
            seen.add(nick.casefold())
            out.append(nick)
        if len(out) == n:
            break
    return out


def _age_band(rng: random.Random, group: str) -> str:
    weights = {
        "school": (0, 88, 12, 0, 0, 0, 0),
        "community": (0, 5, 5, 10, 35, 32, 13),
        "workplace": (0, 0, 0, 12, 50, 38, 0),
        "family": (10, 40, 15, 0, 25, 10, 0),
        "none": (4, 20, 12, 12, 22, 20, 10),
    }[group]
    return rng.choices(AGE_BANDS, weights=weights)[0]


def _gender(rng: random.Random, band: str) -> str:
    if band in CHILD_BANDS:
        return rng.choices(("girl", "boy", "prefer_not_to_say"), weights=(48, 48, 4))[0]
    return rng.choices(("woman", "man", "non-binary", "prefer_not_to_say"), weights=(47, 45, 4, 4))[
        0
    ]


def build_definition(seed: int = DEFAULT_SEED) -> DemoData:
    """Build the whole demo (definition, LSOAs, postcodes) from ``seed``."""
    rng = random.Random(seed)
    lsoas = build_lsoas(rng)
    postcodes = build_postcodes(rng, lsoas)
    live_postcodes = [p for p in postcodes if not p.doterm]
    by_sector: dict[str, list[Postcode]] = {}
    for p in live_postcodes:
        by_sector.setdefault(p.pcds[:-2], []).append(p)

    checkpoints: list[dict[str, Any]] = []
    for cp in CHECKPOINTS:
        item: dict[str, Any] = {
            "code": cp.code,
            "name": cp.name,
            "lat": cp.lat,
            "lon": cp.lon,
            "tags": list(cp.tags),
        }
        if cp.active_from is not None or cp.active_to is not None:
            item["active_from"] = cp.active_from
            item["active_to"] = cp.active_to
        checkpoints.append(item)
    readers = [
        {
            "id": reader_id_for(cp.code),
            "checkpoint": cp.code,
            "secret": demo_secret(reader_id_for(cp.code)),
        }
        for cp in CHECKPOINTS
    ]
    teams = [{"code": t.code, "name": t.name, "kind": t.kind} for t in TEAMS]

    # Cards: the first 135 are school fobs issued to the five schools.
    uids: set[str] = set()
    code_rng = random.Random(f"activation-codes-{seed}")
    cards: list[dict[str, Any]] = []
    schools = [t for t in TEAMS if t.kind == "school"]
    for i in range(N_CARDS):
        card: dict[str, Any] = {
            "number": f"{i + 1:07d}",
            "uid": _uid(rng, uids),
            "activation_code": _activation_code(rng, code_rng),
        }
        school_index = i // SCHOOL_CARDS_PER_TEAM
        if school_index < len(schools):
            card["team"] = schools[school_index].code
        cards.append(card)

    # Registrations: 16 of each school's fobs, 120 of the other cards.
    n_school = SCHOOL_PLAYERS_PER_TEAM * len(schools)
    nicknames = _nicknames(rng, n_school + OTHER_PLAYERS)
    players: list[dict[str, Any]] = []
    for s, school in enumerate(schools):
        for k in range(SCHOOL_PLAYERS_PER_TEAM):
            card = cards[s * SCHOOL_CARDS_PER_TEAM + k]
            band = _age_band(rng, "school")
            sector = rng.choice(school.home_sectors)
            players.append(
                {
                    "card": card["number"],
                    "nickname": nicknames[len(players)],
                    "postcode": rng.choice(by_sector[sector]).pcds,
                    "age_band": band,
                    "gender": _gender(rng, band),
                    "team": school.code,
                    "public": rng.random() < 0.8,
                }
            )
    unissued = cards[SCHOOL_CARDS_PER_TEAM * len(schools) :]
    chosen = sorted(rng.sample(range(len(unissued)), OTHER_PLAYERS))
    team_slots: list[str | None] = []
    for code, size in OTHER_TEAM_SIZES.items():
        team_slots.extend([code] * size)
    team_slots.extend([None] * (OTHER_PLAYERS - len(team_slots)))
    rng.shuffle(team_slots)
    family_postcode = {
        code: rng.choice(live_postcodes).pcds
        for code in OTHER_TEAM_SIZES
        if code.startswith("FAM-")
    }
    terminated_given = False
    kinds = {t.code: t.kind for t in TEAMS}
    for idx, team in zip(chosen, team_slots, strict=True):
        card = unissued[idx]
        group = kinds[team] if team else "none"
        band = _age_band(rng, group)
        if team in family_postcode:
            postcode = family_postcode[team]
        elif team is None and not terminated_given:
            # An older registration on a postcode that has since been terminated.
            postcode = TERMINATED_POSTCODE
            terminated_given = True
        else:
            postcode = rng.choice(live_postcodes).pcds
        player: dict[str, Any] = {
            "card": card["number"],
            "nickname": nicknames[len(players)],
            "postcode": postcode,
            "age_band": band,
            "gender": _gender(rng, band),
        }
        if team:
            player["team"] = team
        player["public"] = rng.random() < 0.8
        players.append(player)

    definition: dict[str, Any] = {
        "game": {
            "slug": "burnley-demo",
            "name": "Burnley Beat the Street (demo)",
            "timezone": "Europe/London",
            "starts_at": GAME_STARTS,
            "ends_at": GAME_ENDS,
            "rules": dict(RULES),
            "instruments": list(INSTRUMENTS),
        },
        "checkpoints": checkpoints,
        "readers": readers,
        "teams": teams,
        "campaigns": [dict(c) for c in CAMPAIGNS],
        "cards": cards,
        "players": players,
    }
    return DemoData(definition, lsoas, postcodes, {p["postcode"] for p in players})


# --------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"}


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        # Unquoted: a YAML timestamp, as in docs/running-a-game/game-file.md.
        return value.isoformat()
    if isinstance(value, str):
        if _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS:
            return value
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot render {value!r}")


def render_yaml(definition: dict[str, Any]) -> str:
    game = definition["game"]
    out: list[str] = [
        "# Burnley Beat the Street (demo): the built-in demo town of `taptrail demo`.",
        "# Generated by taptrail/demo/generate.py (python -m taptrail.demo.generate);",
        "# edit the generator, not this file.",
        "#",
        "# Checkpoints are real places in Burnley; coordinates are best estimates (WGS84).",
        "# Teams, cards and players are fictional.",
        "#",
        "# WARNING: the reader secrets below are fixed, public demo values (derived from",
        '# sha256("demo:" + reader id)) so that the demo\'s simulated boxes can sign their',
        "# uploads. A real game must NEVER ship or commit reader secrets: leave them out and",
        "# let `taptrail game load` generate and print them once.",
        "game:",
    ]
    for key in ("slug", "name", "timezone", "starts_at", "ends_at"):
        out.append(f"  {key}: {_scalar(game[key])}")
    out.append(f"  rules: {_scalar(game['rules'])}")
    out.append(f"  instruments: {_scalar(game['instruments'])}")
    for section in ("checkpoints", "readers", "teams", "campaigns", "cards", "players"):
        comment = {
            "cards": "  # the printed stock; school fobs are issued to their school",
            "players": "  # registrations made elsewhere (demo data)",
        }.get(section, "")
        out.append(f"{section}:{comment}")
        for item in definition[section]:
            out.append(f"  - {_scalar(item)}")
    return "\n".join(out) + "\n"


def _thousands(n: int) -> str:
    return f"{n:,}"


def render_imd_csv(lsoas: list[Lsoa]) -> str:
    buf = io.StringIO()
    writer = csv_writer.writer(buf)
    writer.writerow(IMD_HEADER)
    for lsoa in lsoas:
        row: list[str] = [
            lsoa.code,
            lsoa.name,
            LAD_CODE,
            LAD_NAME,
            f"{lsoa.score:.3f}",
            _thousands(lsoa.rank),
            str(lsoa.decile),
        ]
        for dname in (
            "Income",
            "Employment",
            "Education, Skills and Training",
            "Health Deprivation and Disability",
        ):
            score, rank, decile = lsoa.domains[dname]
            row += [f"{score:.3f}", _thousands(rank), str(decile)]
        row += [_thousands(v) for v in lsoa.population]
        writer.writerow(row)
    return "\ufeff" + buf.getvalue()


def _grid(lat: float, lon: float) -> tuple[str, str]:
    # A local linear approximation of OSGB36 eastings/northings around Burnley.
    east = round(384180 + (lon + 2.2416) * 65890)
    north = round(432410 + (lat - 53.7878) * 111250)
    return f"{east:06d}", f"{north:07d}"


def render_nspl_csv(postcodes: list[Postcode]) -> str:
    buf = io.StringIO()
    buf.write(",".join(NSPL_HEADER) + "\n")
    writer = csv_writer.writer(buf, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    for i, p in enumerate(postcodes):
        outward, inward = p.pcds.split(" ")
        east, north = _grid(p.lat, p.lon)
        pcd = f"{outward:<4}{inward}"  # 7-character form
        pcd2 = f"{outward:<5}{inward}"  # 8-character form
        msoa_number = int(p.lsoa.name[-4:-1])
        writer.writerow(
            [
                pcd,
                pcd2,
                p.pcds,
                p.dointr,
                p.doterm,
                "0",
                east,
                north,
                "1",
                f"E00{128210 + i * 3:06d}",
                "E10000017",
                f"E5800{779 + msoa_number % 6:04d}",
                LAD_CODE,
                next(s.ward for s in SECTORS if s.sector == p.lsoa.sector),
                "E18000002",
                "E40000010",
                "E92000001",
                "E12000002",
                "E14000603",
                "E15000002",
                "E24000019",
                "E30000170",
                "E16000041",
                "TLD45",
                "E99999999",
                p.lsoa.code,
                p.lsoa.msoa_code,
                f"E33{16900 + i:06d}",
                "E38000050",
                "E34004709",
                "E35001223",
                "C1",
                "7A2" if p.lsoa.decile <= 2 else "4B2",
                p.lat,
                p.lon,
                "E37000022",
                "",
                "E23000003",
                p.lsoa.rank,
                "E56000033",
                "E54000048",
            ]
        )
    return buf.getvalue()


def render_all(seed: int = DEFAULT_SEED) -> dict[str, str]:
    data = build_definition(seed)
    text = render_yaml(data.definition)
    if yaml.safe_load(text) != data.definition:  # the hand-written YAML must round-trip
        raise AssertionError("rendered YAML does not round-trip")
    return {
        YAML_NAME: text,
        IMD_NAME: render_imd_csv(data.lsoas),
        NSPL_NAME: render_nspl_csv(data.postcodes),
    }


def write_all(out_dir: Path = OUT_DIR, seed: int = DEFAULT_SEED) -> list[Path]:
    written: list[Path] = []
    for name, text in render_all(seed).items():
        path = out_dir / name
        path.write_bytes(text.encode("utf-8"))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if the files in --out differ from what would be written",
    )
    args = parser.parse_args(argv)
    if args.check:
        stale = [
            name
            for name, text in render_all(args.seed).items()
            if not (args.out / name).exists()
            or (args.out / name).read_bytes() != text.encode("utf-8")
        ]
        for name in stale:
            print(f"stale: {args.out / name}", file=sys.stderr)
        return 1 if stale else 0
    for path in write_all(args.out, args.seed):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

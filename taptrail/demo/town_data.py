"""The demo town's tables: Burnley's checkpoints, teams, campaigns and rules, how many cards
and players it has, the names its players pick, its postcode sectors, and the shapes of the
deprivation and postcode files (taptrail/demo/generate.py turns them into the demo's files).

The checkpoints are real places on real streets of Burnley. Their coordinates are best
estimates (several are taken from published coordinates of the landmark; the rest are
placed from local knowledge) and should be within about 50-150 m. The deprivation figures
and postcode lookups are NOT official values: they only have the official formats.
Data only: no code but the records the tables are made of.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

LAD_CODE = "E07000117"
LAD_NAME = "Burnley"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


GAME_STARTS = utc("2026-11-16T00:00:00+00:00")
GAME_ENDS = utc("2026-12-28T00:00:00+00:00")


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
        utc("2026-11-21T09:00:00+00:00"),
        utc("2026-12-24T18:00:00+00:00"),
    ),
    CheckpointSpec(
        "BB040",
        "Towneley fun day marquee (mobile)",
        53.7768,
        -2.2238,
        ("park", "event"),
        utc("2026-11-28T09:00:00+00:00"),
        utc("2026-11-28T16:00:00+00:00"),
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
        "starts_at": utc("2026-11-23T00:00:00+00:00"),
        "ends_at": utc("2026-12-07T00:00:00+00:00"),
        "checkpoint_tags": ["park"],
        "checkpoints": [],
        "age_bands": [],
    },
    {
        "code": "FUNDAY-TRIPLE",
        "name": "Triple points for 5-11s at the Towneley fun day",
        "multiplier": 3,
        "starts_at": utc("2026-11-28T09:00:00+00:00"),
        "ends_at": utc("2026-11-28T16:00:00+00:00"),
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
    SectorSpec("BB10 4", 9, (6, 7), 53.7860, -2.2120, "E05005152"),
    SectorSpec("BB11 2", 10, (1, 1, 2), 53.7820, -2.2380, "E05005161"),
    SectorSpec("BB11 4", 11, (2, 9), 53.7800, -2.2560, "E05005156"),
    SectorSpec("BB11 3", 12, (5, 7), 53.7760, -2.2350, "E05005158"),
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

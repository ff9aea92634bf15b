"""Write the demo town's files deterministically from a seed.

    python -m taptrail.demo.generate            # rewrite the committed files (seed 2026)
    python -m taptrail.demo.generate --check    # exit 1 if the committed files are stale

Outputs (beside this module):

- ``burnley-demo.yaml``: the game definition (docs/running-a-game/game-file.md).
- ``imd-sample.csv``: an illustrative IoD2019 "File 7" extract (docs/evaluation.md), UTF-8 with a
  byte-order mark and quoted numbers with thousands separators, as councils download it.
- ``postcodes-sample.csv``: an illustrative ONS NSPL extract mapping every demo player's
  postcode (and some more, one of them terminated) to the LSOAs of the IMD sample.

The town's tables (checkpoints, teams, names, postcode sectors, file headers) are in
``taptrail/demo/town_data.py`` and the files' formats in ``taptrail/demo/files.py``; this
module draws the town from the seed and writes the files.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kernel.vocabulary import AGE_BANDS
from names.public_names import CHILD_AGE_BANDS
from people.activation import ALPHABET, LENGTH, grouped
from taptrail.demo.files import Lsoa, Postcode, render_imd_csv, render_nspl_csv, render_yaml
from taptrail.demo.town_data import (
    ADJECTIVES,
    ANIMALS,
    CAMPAIGNS,
    CHECKPOINTS,
    EDUCATION_BY_RANK,
    EMPLOYMENT_BY_RANK,
    GAME_ENDS,
    GAME_STARTS,
    HEALTH_BY_RANK,
    IMD_SCORE_BY_RANK,
    INCOME_BY_RANK,
    INSTRUMENTS,
    LAD_NAME,
    N_CARDS,
    N_LSOAS_ENGLAND,
    OTHER_PLAYERS,
    OTHER_TEAM_SIZES,
    RULES,
    SCHOOL_CARDS_PER_TEAM,
    SCHOOL_PLAYERS_PER_TEAM,
    SECTORS,
    TEAMS,
    TERMINATED_DOTERM,
    TERMINATED_POSTCODE,
    UNIT_LETTERS,
    UNITS_PER_SECTOR,
    SectorSpec,
)

DEFAULT_SEED = 2026
OUT_DIR = Path(__file__).resolve().parent
YAML_NAME = "burnley-demo.yaml"
IMD_NAME = "imd-sample.csv"
NSPL_NAME = "postcodes-sample.csv"


# No 0/O, 1/I: easy to read off a printed card.
ACTIVATION_ALPHABET = ALPHABET


def demo_secret(reader_id: str) -> str:
    """The fixed demo secret of a reader: 43 base64url characters of sha256("demo:"+id).

    Only for the demo: a real game's secrets are random and never committed.
    """
    digest = hashlib.sha256(f"demo:{reader_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def reader_id_for(code: str) -> str:
    return f"R-{code}"


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
    if band in CHILD_AGE_BANDS:
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

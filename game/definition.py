"""The game definition file (docs/running-a-game/game-file.md): parsing and validation.

Every problem in a file is reported at once, each naming its entry and field, e.g.
``checkpoints[12].lat: must be between -90 and 90``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from game import instruments, join_codes
from kernel.times import Moment
from kernel.uids import normalise_uid
from kernel.vocabulary import AGE_BANDS, TEAM_KINDS
from names.nicknames import NicknameError, checked_nickname, nickname_key

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$"
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class DefinitionError(Exception):
    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} error(s) in the game definition:\n" + "\n".join(errors))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RulesDef(_Strict):
    journey_window_minutes: int = Field(60, ge=1, le=24 * 60)
    points_per_leg: int = Field(10, ge=0, le=10_000)
    max_speed_kmh: float = Field(25.0, gt=0, le=1000)
    max_points_per_day: int | None = Field(None, ge=1)
    min_members_for_average: int = Field(5, ge=1)
    checkin_radius_m: float = Field(40.0, gt=0, le=1000)
    daytime_start_hour: int = Field(7, ge=0, le=23)
    daytime_end_hour: int = Field(21, ge=1, le=24)
    email_retention_days: int = Field(90, ge=0)


class GameDef(_Strict):
    slug: str = Field(pattern=SLUG_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    timezone: str = "Europe/London"
    starts_at: Moment
    ends_at: Moment
    rules: RulesDef = Field(default_factory=RulesDef)  # type: ignore[arg-type]
    # The survey instruments asked (game/instruments.py); None = the default three.
    instruments: list[str] | None = None
    # The languages the family site offers (api/family/i18n.py); None = English and Welsh.
    languages: list[Literal["en", "cy"]] | None = Field(None, min_length=1)

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if "en" not in value:
            raise ValueError("must include en (English, the language every page is written in)")
        return list(dict.fromkeys(value))

    @field_validator("instruments")
    @classmethod
    def _instruments(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(instruments.normalise(value))

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone") from None
        return value


class CheckpointDef(_Strict):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    lat: float
    lon: float
    tags: list[str] = Field(default_factory=list)
    active_from: Moment | None = None
    active_to: Moment | None = None

    @field_validator("lat")
    @classmethod
    def _lat(cls, value: float) -> float:
        if not -90 <= value <= 90:
            raise ValueError("must be between -90 and 90")
        return value

    @field_validator("lon")
    @classmethod
    def _lon(cls, value: float) -> float:
        if not -180 <= value <= 180:
            raise ValueError("must be between -180 and 180")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return sorted({tag.strip().lower() for tag in value if tag.strip()})


class ReaderDef(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
    checkpoint: str
    secret: str | None = Field(None, min_length=32)


class TeamDef(_Strict):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    kind: str
    # Optional: loading generates one for every team but schools (game/join_codes.py).
    join_code: str | None = None

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in TEAM_KINDS:
            raise ValueError(f"must be one of {', '.join(TEAM_KINDS)}")
        return value

    @field_validator("join_code")
    @classmethod
    def _join_code(cls, value: str | None) -> str | None:
        return None if value is None else join_codes.check_format(value)


def _check_age_bands(values: list[str]) -> list[str]:
    bad = [v for v in values if v not in AGE_BANDS]
    if bad:
        raise ValueError(f"unknown age band(s) {bad}: use {', '.join(AGE_BANDS)}")
    return sorted(set(values))


class CampaignDef(_Strict):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    multiplier: Decimal = Field(gt=0, le=100, max_digits=6, decimal_places=3)
    starts_at: Moment
    ends_at: Moment
    checkpoint_tags: list[str] = Field(default_factory=list)
    checkpoints: list[str] = Field(default_factory=list)
    age_bands: list[str] = Field(default_factory=list)

    _age = field_validator("age_bands")(_check_age_bands)

    @field_validator("checkpoint_tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return sorted({tag.strip().lower() for tag in value if tag.strip()})


class CardDef(_Strict):
    number: str = Field(pattern=r"^[A-Za-z0-9-]{1,32}$")
    uid: str
    activation_code: str = Field(min_length=4, max_length=32)
    team: str | None = None

    @field_validator("uid")
    @classmethod
    def _uid(cls, value: str) -> str:
        uid = normalise_uid(value)
        if uid is None:
            raise ValueError("must be 8, 14 or 20 hexadecimal characters (4, 7 or 10 bytes)")
        return uid


class PlayerDef(_Strict):
    """A registration made elsewhere: its nickname passes the same checks as the API's
    (age_band comes first so the nickname check knows whether the player is under 16)."""

    card: str
    age_band: str | None = None
    nickname: str = Field(min_length=1, max_length=60)
    postcode: str | None = None
    gender: str | None = None
    team: str | None = None
    public: bool = False
    # A parent's deliberate choice to show an under-16's nickname on public boards.
    show_nickname_publicly: bool = False
    email: str | None = None

    @field_validator("age_band")
    @classmethod
    def _age(cls, value: str | None) -> str | None:
        if value is not None and value not in AGE_BANDS:
            raise ValueError(f"must be one of {', '.join(AGE_BANDS)}")
        return value

    @field_validator("nickname")
    @classmethod
    def _nickname(cls, value: str, info: ValidationInfo) -> str:
        # Without a (valid) age band the player is judged as under 16.
        age_band = info.data.get("age_band")
        try:
            return checked_nickname(value, age_band)
        except NicknameError as exc:
            raise ValueError(str(exc)) from None


class GameFile(_Strict):
    game: GameDef
    checkpoints: list[CheckpointDef] = Field(default_factory=list)
    readers: list[ReaderDef] = Field(default_factory=list)
    teams: list[TeamDef] = Field(default_factory=list)
    campaigns: list[CampaignDef] = Field(default_factory=list)
    cards: list[CardDef] = Field(default_factory=list)
    players: list[PlayerDef] = Field(default_factory=list)


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(file)"


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "timezone_aware":
        return "needs a UTC offset, e.g. 2027-05-01T00:00:00+01:00"
    if kind == "string_pattern_mismatch":
        return f"'{error.get('input')}' has characters that are not allowed"
    msg = str(error["msg"])
    return msg[0].lower() + msg[1:]


def parse_text(text: str, *, filename: str = "") -> dict[str, Any]:
    try:
        if filename.endswith(".json") or text.lstrip().startswith("{"):
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise DefinitionError([f"(file): not valid YAML or JSON: {exc}"]) from None
    if not isinstance(data, dict):
        raise DefinitionError(["(file): must be a mapping with a 'game' section"])
    return data


def _duplicates(items: list[Any], key: str, section: str, errors: list[str]) -> None:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        value = getattr(item, key)
        folded = value.lower() if isinstance(value, str) else value
        if folded in seen:
            errors.append(
                f"{section}[{i}].{key}: '{value}' already used by {section}[{seen[folded]}]"
            )
        else:
            seen[folded] = i


def _join_codes(teams: list[TeamDef], errors: list[str]) -> None:
    """Join codes are for teams other than schools, and unique in the game."""
    seen: dict[str, int] = {}
    for i, team in enumerate(teams):
        if team.join_code is None:
            continue
        if not join_codes.needs_join_code(team.kind):
            errors.append(
                f"teams[{i}].join_code: a {team.kind} team has no join code: it is picked "
                "from the list"
            )
        elif team.join_code in seen:
            errors.append(
                f"teams[{i}].join_code: already the join code of teams[{seen[team.join_code]}]"
            )
        else:
            seen[team.join_code] = i


def _duplicate_nicknames(
    players: list[PlayerDef], raw: dict[str, Any] | None, errors: list[str]
) -> None:
    """Nicknames that are the same for ``nickname_key`` (case, spacing, look-alikes),
    numbered as in the file (with ``raw``, entries that failed validation keep their place)."""
    items = raw.get("players") if raw is not None else None
    if isinstance(items, list):
        named = [
            (i, str(item["nickname"]))
            for i, item in enumerate(items)
            if isinstance(item, dict) and isinstance(item.get("nickname"), str)
        ]
    else:
        named = [(i, player.nickname) for i, player in enumerate(players)]
    seen: dict[str, int] = {}
    for i, nickname in named:
        key = nickname_key(nickname)
        if key in seen:
            errors.append(
                f"players[{i}].nickname: '{nickname}' is the same as (or looks like) "
                f"players[{seen[key]}]'s"
            )
        elif key:
            seen[key] = i


def _raw_keys(data: dict[str, Any], section: str, key: str) -> set[str]:
    items = data.get(section)
    if not isinstance(items, list):
        return set()
    return {str(i[key]) for i in items if isinstance(i, dict) and i.get(key) is not None}


def _cross_checks(gf: GameFile, raw: dict[str, Any] | None = None) -> list[str]:
    """References and orderings. With ``raw``, an entry that exists but failed its own
    validation still counts as existing, so one mistake is not reported twice."""
    errors: list[str] = []
    _duplicates(gf.checkpoints, "code", "checkpoints", errors)
    _duplicates(gf.readers, "id", "readers", errors)
    _duplicates(gf.teams, "code", "teams", errors)
    _join_codes(gf.teams, errors)
    _duplicates(gf.campaigns, "code", "campaigns", errors)
    _duplicates(gf.cards, "number", "cards", errors)
    _duplicates(gf.cards, "uid", "cards", errors)
    _duplicates(gf.players, "card", "players", errors)
    _duplicate_nicknames(gf.players, raw, errors)
    if gf.game.ends_at <= gf.game.starts_at:
        errors.append("game.ends_at: must be after game.starts_at")
    if gf.game.rules.daytime_end_hour <= gf.game.rules.daytime_start_hour:
        errors.append("game.rules.daytime_end_hour: must be after daytime_start_hour")
    codes = {c.code for c in gf.checkpoints}
    teams = {t.code for t in gf.teams}
    cards = {c.number for c in gf.cards}
    if raw is not None:
        codes |= _raw_keys(raw, "checkpoints", "code")
        teams |= _raw_keys(raw, "teams", "code")
        cards |= _raw_keys(raw, "cards", "number")
    for i, cp in enumerate(gf.checkpoints):
        if cp.active_from and cp.active_to and cp.active_to <= cp.active_from:
            errors.append(f"checkpoints[{i}].active_to: must be after active_from")
    for i, reader in enumerate(gf.readers):
        if reader.checkpoint not in codes:
            errors.append(f"readers[{i}].checkpoint: no checkpoint '{reader.checkpoint}'")
    for i, camp in enumerate(gf.campaigns):
        if camp.ends_at <= camp.starts_at:
            errors.append(f"campaigns[{i}].ends_at: must be after starts_at")
        for code in camp.checkpoints:
            if code not in codes:
                errors.append(f"campaigns[{i}].checkpoints: no checkpoint '{code}'")
    for i, card in enumerate(gf.cards):
        if card.team is not None and card.team not in teams:
            errors.append(f"cards[{i}].team: no team '{card.team}'")
    for i, player in enumerate(gf.players):
        if player.card not in cards:
            errors.append(f"players[{i}].card: no card '{player.card}'")
        if player.team is not None and player.team not in teams:
            errors.append(f"players[{i}].team: no team '{player.team}'")
    return errors


_SECTIONS: dict[str, type[_Strict]] = {
    "checkpoints": CheckpointDef,
    "readers": ReaderDef,
    "teams": TeamDef,
    "campaigns": CampaignDef,
    "cards": CardDef,
    "players": PlayerDef,
}


def _errors_of(exc: ValidationError, prefix: tuple[int | str, ...]) -> list[str]:
    return [f"{_loc(prefix + tuple(e['loc']))}: {_message(dict(e))}" for e in exc.errors()]


def validate(data: dict[str, Any]) -> GameFile:
    """Validate a parsed file; raise DefinitionError listing every problem in it.

    Sections and entries are validated one by one so that one bad entry does not hide the
    problems of the others, and references are checked among the entries that parsed.
    """
    errors: list[str] = []
    unknown = sorted(set(data) - {"game", *_SECTIONS})
    errors += [f"{key}: is not a known section" for key in unknown]
    parsed: dict[str, Any] = {}
    game: GameDef | None = None
    try:
        game = GameDef.model_validate(data.get("game"))
    except ValidationError as exc:
        errors += _errors_of(exc, ("game",))
    for section, model in _SECTIONS.items():
        raw = data.get(section) or []
        if not isinstance(raw, list):
            errors.append(f"{section}: must be a list")
            continue
        good = []
        for i, item in enumerate(raw):
            try:
                good.append(model.model_validate(item))
            except ValidationError as exc:
                errors += _errors_of(exc, (section, i))
        parsed[section] = good
    if not errors and game is not None:
        gf = GameFile(game=game, **parsed)
        errors += _cross_checks(gf)
        if not errors:
            return gf
    elif game is not None:
        # Report reference problems too, among the entries that did parse.
        partial = GameFile.model_construct(game=game, **parsed)
        errors += [e for e in _cross_checks(partial, data) if e not in errors]
    raise DefinitionError(errors)


def load_text(text: str, *, filename: str = "") -> GameFile:
    return validate(parse_text(text, filename=filename))


def utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None

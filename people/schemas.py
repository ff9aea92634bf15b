"""Request and response shapes of the people API (registration, own view, teams, admin).

Nothing here carries a postcode, LSOA, e-mail or card number out to anyone but the person
it belongs to (their own view) or an organiser (card numbers only).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kernel.vocabulary import AgeBand, OutcomeKind, TeamKind

Gender = Literal["female", "male", "non_binary", "other", "prefer_not_to_say"]
Outcome = Literal[OutcomeKind, "pending"]  # pending: not scored yet

GENDER_ALIASES = {
    "girl": "female",
    "woman": "female",
    "f": "female",
    "boy": "male",
    "man": "male",
    "m": "male",
    "non-binary": "non_binary",
    "nonbinary": "non_binary",
    "prefer not to say": "prefer_not_to_say",
    "prefer-not-to-say": "prefer_not_to_say",
}
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+$")
_CARD_NUMBER = r"^\s*[A-Za-z0-9-]{1,32}\s*$"


def normalise_gender(value: Any) -> Any:
    """Accepts the usual words ("girl", "Prefer not to say") for the stored values."""
    if isinstance(value, str):
        text = value.strip().lower()
        return GENDER_ALIASES.get(text, text.replace(" ", "_"))
    return value


def _check_email(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if not _EMAIL.match(value):
        raise ValueError("is not an e-mail address")
    return value


_REGISTRATION_EXAMPLE: dict[str, Any] = {
    "card_number": "0001234",
    "activation_code": "K7Q2-X9PA-3MRT",
    "nickname": "Swift Fox",
    "postcode": "BB11 3DF",
    "age_band": "5-11",
    "gender": "prefer_not_to_say",
    "team": "ST-MARYS",
    "public": True,
    "show_nickname_publicly": False,
    "email": None,
}

SHOW_NICKNAME_PUBLICLY = (
    "A parent's deliberate choice, for a player under 16: show the chosen nickname on public "
    "boards instead of the name the game makes up (adjective + animal + number). Without it "
    "an under-16 appears on public boards only by the made-up name; their family and team "
    "manager always see the chosen nickname. No effect for players 16 and over."
)
NICKNAME = (
    "Shown instead of a name: 2-24 letters, digits, spaces, - ' . _; not a real name, no "
    "phone numbers or addresses, nothing offensive, not 'Player <number>' nor the shape of "
    "a made-up name ('Brave Otter 42'), not a look-alike of another player's nickname. "
    "For players under 16 a first name and surname is refused."
)


class RegistrationIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [_REGISTRATION_EXAMPLE]}
    )

    card_number: str | None = Field(
        None,
        pattern=_CARD_NUMBER,
        description="The number printed on the card; leave out (with the code) for an app player, "
        "who gets a virtual card",
    )
    activation_code: str | None = Field(
        None,
        min_length=1,
        max_length=32,
        description="The code printed with the card (case, spaces and hyphens do not matter)",
    )
    nickname: str = Field(min_length=1, max_length=60, description=NICKNAME)
    postcode: str | None = Field(
        None,
        max_length=16,
        description="Home postcode: used once to find the neighbourhood's deprivation decile, "
        "then discarded; never stored",
    )
    age_band: AgeBand = Field(
        description="An app account (no card) is for 13 and over: 12-15 must also confirm "
        "age_13_or_over; younger children play with a card through a parent or carer"
    )
    age_13_or_over: bool = Field(
        False,
        description="For an app account (no card) in the 12-15 band: the player is 13 or over",
    )
    gender: Gender = Field(description="'prefer_not_to_say' is always accepted")
    team: str | None = Field(
        None,
        max_length=64,
        description="Team code to join; default: the team the card was issued to (school fobs)",
    )
    join_code: str | None = Field(
        None,
        max_length=32,
        description="The team's join code, from its manager: needed for every team but "
        "schools (unless the card was issued to that team)",
    )
    public: bool = Field(
        False,
        description="May the player appear on public leaderboards? Players under 16 appear "
        "by a made-up name unless show_nickname_publicly is set",
    )
    show_nickname_publicly: bool = Field(False, description=SHOW_NICKNAME_PUBLICLY)
    email: str | None = Field(
        None,
        max_length=254,
        description="Optional contact for prizes; deleted automatically after the game",
    )

    _gender = field_validator("gender", mode="before")(normalise_gender)
    _email = field_validator("email")(_check_email)

    @model_validator(mode="after")
    def _card_pair(self) -> RegistrationIn:
        if (self.card_number is None) != (self.activation_code is None):
            raise ValueError(
                "give both card_number and activation_code, or neither for a virtual card"
            )
        return self


class TeamOut(BaseModel):
    code: str
    name: str
    kind: TeamKind
    needs_join_code: bool = Field(
        description="Joining takes the team's join code (every kind but school)"
    )


class AdminTeamOut(TeamOut):
    join_code: str | None = Field(description="What joining takes; null for schools")


class AdminTeamsOut(BaseModel):
    game: str
    teams: list[AdminTeamOut]


class TeamsOut(BaseModel):
    game: str
    teams: list[TeamOut]


class CardOut(BaseModel):
    number: str
    kind: Literal["rfid", "virtual"]
    active: bool = Field(description="False once the card was replaced")


class RegistrationOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "game": "burnley-2027",
                    "player_id": 812,
                    "token": "tt_…",
                    "nickname": "Swift Fox",
                    "public": True,
                    "shown_as": "Brave Otter 42",
                    "team": {
                        "code": "ST-MARYS",
                        "name": "St Mary's Primary",
                        "kind": "school",
                        "needs_join_code": False,
                    },
                    "card": {"number": "0001234", "kind": "rfid", "active": True},
                    "postcode_status": "found",
                }
            ]
        }
    )

    game: str
    player_id: int
    token: str = Field(description="The player's bearer token: keep it on the device")
    nickname: str
    public: bool
    shown_as: str | None = Field(
        description="How public boards show the player (a made-up name for players under 16 "
        "unless a parent chose to show the nickname); null when not on public boards"
    )
    team: TeamOut | None
    card: CardOut
    postcode_status: Literal["found", "not_found", "not_given"] = Field(
        description="Whether the postcode matched a neighbourhood (the postcode is not kept)"
    )


class TeamChangeIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"team": "CANAL-WALKERS", "join_code": "K7QP2XMA"}]},
    )

    team: str | None = Field(max_length=64, description="Team code, or null for no team")
    join_code: str | None = Field(
        None, max_length=32, description="The team's join code: needed for every team but schools"
    )


class MeUpdateIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"nickname": "Quick Otter"}]}
    )

    nickname: str | None = Field(None, min_length=1, max_length=60, description=NICKNAME)
    public: bool | None = None
    show_nickname_publicly: bool | None = Field(None, description=SHOW_NICKNAME_PUBLICLY)
    email: str | None = Field(None, max_length=254, description="null removes the e-mail")

    _email = field_validator("email")(_check_email)


class CardLinkIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"card_number": "0001299", "activation_code": "P3X9-7KDA-M2QC"}]
        },
    )

    card_number: str = Field(pattern=_CARD_NUMBER)
    activation_code: str = Field(min_length=1, max_length=32)


class CardReplaceIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"new_card": "0001299"}]}
    )

    new_card: str = Field(pattern=_CARD_NUMBER, description="Number of the card handed out")


class CardChangeOut(BaseModel):
    card: str = Field(description="The card that now scores for the holder")
    retired: list[str] = Field(description="Cards that stopped scoring now")
    moved_taps: int = Field(description="Taps the new card made before it was linked")


class TeamStandingOut(TeamOut):
    points: int
    distance_km: float
    active_members: int
    rank: int = Field(description="Competition rank by total points among all teams")
    teams: int = Field(description="Teams in the game")
    rank_in_kind: int = Field(description="Rank among teams of the same kind")
    teams_in_kind: int


class TotalsOut(BaseModel):
    points: int
    distance_km: float
    legs: int
    taps: int


class TodayOut(BaseModel):
    date: date
    taps: int
    legs: int
    points: int
    distance_km: float


class TapOut(BaseModel):
    tapped_at: datetime
    checkpoint: str
    checkpoint_name: str
    outcome: Outcome
    points: int
    distance_m: float
    multiplier: float | None


class JourneyOut(BaseModel):
    started_at: datetime
    points: int
    distance_km: float
    taps: list[TapOut] = Field(description="In time order")


class MeOut(BaseModel):
    game: str
    player_id: int
    nickname: str
    shown_as: str | None = Field(
        description="How public boards show you; null when you are not on public boards"
    )
    nickname_hidden: bool
    public: bool
    show_nickname_publicly: bool
    age_band: str | None
    gender: str | None
    has_email: bool
    notices: list[str]
    team: TeamStandingOut | None
    totals: TotalsOut
    today: TodayOut
    cards: list[CardOut]
    journeys: list[JourneyOut] = Field(description="Recent journeys, newest first")


class MemberOut(BaseModel):
    player_id: int = Field(description="What removing the member from the team takes")
    nickname: str
    nickname_hidden: bool
    points: int = Field(description="Points earned for this team")
    legs: int
    distance_km: float
    days_active: int
    last_active_on: date | None


class TeamPlayersOut(BaseModel):
    game: str
    team: TeamStandingOut
    join_code: str | None = Field(
        description="What joining the team takes, to hand to new members; null for schools"
    )
    players: list[MemberOut]
    other_points: int = Field(
        description="Team points of holders not listed: unregistered cards, former members, "
        "erased players"
    )


class PlayerAdminOut(BaseModel):
    id: int
    nickname: str | None
    nickname_hidden: bool
    public: bool
    team: str | None
    cards: list[str]
    registered_at: datetime
    erased_at: datetime | None
    has_email: bool


class PlayerListOut(BaseModel):
    game: str
    players: list[PlayerAdminOut]


class PlayerAdminUpdateIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"nickname_hidden": True}]}
    )

    nickname_hidden: bool = Field(
        description="Hide the nickname on public boards (shown as 'Player <id>'); the player is "
        "told in their own view"
    )


class ErasureOut(BaseModel):
    player_id: int
    erased_at: datetime
    tokens_revoked: int
    removed: list[str] = Field(description="What was removed, by kind")

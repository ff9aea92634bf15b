"""Request and response shapes of the scoring administration API (campaigns, re-scoring,
lucky-tap draws, the help-desk card view). Plain pydantic models: the services build them,
``api/scoring.py`` serves them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from game.definition import CampaignDef, _check_age_bands
from kernel.times import Moment

# --------------------------------------------------------------------------- campaigns

_CAMPAIGN_EXAMPLE: dict[str, Any] = {
    "code": "PARKS-WEEK",
    "name": "Double points in the parks",
    "multiplier": 2,
    "starts_at": "2027-05-15T00:00:00+01:00",
    "ends_at": "2027-05-22T00:00:00+01:00",
    "checkpoint_tags": ["park"],
    "checkpoints": [],
    "age_bands": [],
}


class CampaignIn(CampaignDef):
    """A new campaign: the same fields as in the game definition file."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CAMPAIGN_EXAMPLE]})


class CampaignPatch(BaseModel):
    """Fields to change; those left out keep their values."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"multiplier": 3, "ends_at": "2027-05-23T00:00:00Z"}]},
    )

    name: str | None = Field(None, min_length=1, max_length=200)
    multiplier: Decimal | None = Field(None, gt=0, le=100, max_digits=6, decimal_places=3)
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    checkpoint_tags: list[str] | None = None
    checkpoints: list[str] | None = None
    age_bands: list[str] | None = None

    @field_validator("age_bands")
    @classmethod
    def _ages(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _check_age_bands(value)

    @field_validator("checkpoint_tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return sorted({tag.strip().lower() for tag in value if tag.strip()})


class CampaignOut(BaseModel):
    code: str
    name: str
    multiplier: float
    starts_at: datetime
    ends_at: datetime
    checkpoint_tags: list[str]
    checkpoints: list[str]
    age_bands: list[str]
    active_now: bool
    legs: int = Field(description="Legs (including capped ones) this campaign applied to")
    points: int = Field(description="Points scored by those legs")


class RescoreOut(BaseModel):
    """What a re-score did (also kept in the audit log)."""

    taps: int
    outcomes_changed: int
    points_before: int
    points_after: int
    points_moved: int = Field(description="Sum over taps of |new points - old points|")
    audit_id: int | None


class CampaignChangeOut(BaseModel):
    campaign: CampaignOut
    changes: list[str] = Field(description="What changed, one line per field")
    rescore: RescoreOut | None = Field(description="The re-score the change caused, if any")


class CampaignList(BaseModel):
    game: str
    campaigns: list[CampaignOut]


class RescoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("requested by an organiser", min_length=1, max_length=200)


# --------------------------------------------------------------------------- lucky draws


class DrawScheduleIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"winners_per_day": 3, "from_date": "2027-05-01", "to_date": None}]
        },
    )

    winners_per_day: int = Field(ge=1, le=1000)
    from_date: date | None = Field(None, description="First local day drawn (default: game start)")
    to_date: date | None = Field(None, description="Last local day drawn (default: game end)")


class DrawScheduleOut(BaseModel):
    id: int
    winners_per_day: int
    from_date: date | None
    to_date: date | None
    created_by: str
    created_at: datetime


class WinnerOut(BaseModel):
    position: int = Field(description="1 = drawn first")
    player_id: int | None = Field(description="None if the player has since been deleted")
    nickname: str | None


class DrawOut(BaseModel):
    id: int
    schedule_id: int
    date: date
    winners_requested: int
    seed: int
    candidate_count: int
    candidates_sha256: str = Field(
        description="SHA-256 (hex) of the sorted candidate player ids joined by commas"
    )
    drawn_at: datetime
    drawn_by: str
    winners: list[WinnerOut]


class DrawList(BaseModel):
    game: str
    schedules: list[DrawScheduleOut]
    draws: list[DrawOut]


class DrawRunOut(BaseModel):
    game: str
    date: date
    draws: list[DrawOut] = Field(description="Draws made by this call")
    already_drawn: list[DrawOut] = Field(description="Draws for that day made earlier")


class DrawDetail(DrawOut):
    candidate_ids: list[int] = Field(description="The sorted candidate player ids")
    reproduce: str = Field(description="Python that recomputes the winners from the record")
    recorded_hash_ok: bool = Field(description="candidates_sha256 matches candidate_ids")
    winners_reproduced: bool = Field(
        description="random.Random(seed).sample(candidate_ids, n) gives the recorded winners"
    )
    candidates_now_sha256: str = Field(
        description="Hash of the candidates recomputed from today's ledger (late taps or "
        "erasures since the draw make it differ)"
    )


# --------------------------------------------------------------------------- help desk


class HelpdeskTeam(BaseModel):
    code: str
    name: str
    kind: str


class HelpdeskPlayer(BaseModel):
    """The registration, without personal contact data."""

    player_id: int
    nickname: str | None
    public: bool
    age_band: str | None
    registered_at: datetime
    erased: bool


class HelpdeskCard(BaseModel):
    number: str
    uid: str
    kind: str
    valid_from: datetime | None
    valid_until: datetime | None
    issued_team: str | None


class HelpdeskTap(BaseModel):
    card: str = Field(description="Number of the card that made the tap")
    this_card: bool = Field(description="False for taps of the holder's other cards")
    tapped_at: datetime = Field(description="Corrected time (what scoring uses)")
    tapped_at_raw: datetime = Field(description="The time the box reported")
    clock_corrected_s: float = Field(description="tapped_at - tapped_at_raw, seconds")
    received_at: datetime
    local_date: date | None
    checkpoint: str
    checkpoint_name: str
    source: str
    reader_id: str | None
    outcome: str | None = Field(description="None while not yet scored")
    points: int
    distance_m: float
    multiplier: float | None
    campaign: str | None
    team: str | None = Field(description="Team the tap counted for")
    after_replacement: bool = Field(
        description="Made with the card after it was replaced (a lost card): whoever has the "
        "card now, not the player. It counts for nobody and only organisers see it"
    )
    explanation: str = Field(description="Why the tap had this outcome, in plain words")


class HelpdeskRejection(BaseModel):
    reason: str
    reader_id: str | None
    tapped_at: datetime | None
    tapped_at_raw: datetime | None
    received_at: datetime
    card_uid_raw: str | None


class HelpdeskView(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "game": "burnley-2027",
                    "card": {
                        "number": "0001234",
                        "uid": "04A1B2C3D4E5F6",
                        "kind": "rfid",
                        "valid_from": None,
                        "valid_until": None,
                        "issued_team": "ST-MARYS",
                    },
                    "holder_id": 42,
                    "registered": True,
                    "player": {
                        "player_id": 7,
                        "nickname": "Swift Fox",
                        "public": True,
                        "age_band": "5-11",
                        "registered_at": "2027-05-02T17:00:00Z",
                        "erased": False,
                    },
                    "team": {"code": "ST-MARYS", "name": "St Mary's Primary", "kind": "school"},
                    "other_cards": [],
                    "points": 20,
                    "distance_km": 1.6,
                    "legs": 2,
                    "taps_total": 3,
                    "card_points": 20,
                    "taps": [],
                    "rejected": [],
                }
            ]
        }
    )

    game: str
    card: HelpdeskCard
    holder_id: int
    registered: bool
    player: HelpdeskPlayer | None
    team: HelpdeskTeam | None = Field(description="The team the holder counts for now")
    other_cards: list[str] = Field(description="Numbers of the holder's other cards")
    points: int = Field(description="The holder's points (all its cards)")
    distance_km: float
    legs: int
    taps_total: int
    card_points: int = Field(description="Points of this card's taps")
    taps: list[HelpdeskTap] = Field(description="Every tap of the holder, in scoring order")
    rejected: list[HelpdeskRejection] = Field(
        description="Taps of this card's UID that were rejected, newest first"
    )


# --------------------------------------------------------------------------- ledger


class LedgerCheckOut(BaseModel):
    game: str
    ok: bool
    mismatches: list[str] = Field(description="Up to 100 differences (table, key, values)")


__all__ = [
    "CampaignChangeOut",
    "CampaignIn",
    "CampaignList",
    "CampaignOut",
    "CampaignPatch",
    "DrawDetail",
    "DrawList",
    "DrawOut",
    "DrawRunOut",
    "DrawScheduleIn",
    "DrawScheduleOut",
    "HelpdeskView",
    "LedgerCheckOut",
    "RescoreIn",
    "RescoreOut",
    "WinnerOut",
]

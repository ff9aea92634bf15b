"""Request and answer bodies of the reader and box-health interfaces (docs/reader-protocol.md)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from kernel.times import ClockTime, Moment
from kernel.vocabulary import OutcomeKind

MAX_TAPS = 500
MAX_BOOT = 2**31 - 1
MAX_SEQ = 2**63 - 1

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII
)


def _rfc3339(value: Any) -> Any:
    # pydantic alone would also read numbers and bare dates as times; readers send RFC 3339.
    if not isinstance(value, str):
        return value
    if not _RFC3339.match(value):
        raise ValueError("must be an RFC 3339 time with an offset, e.g. 2027-05-03T08:15:57Z")
    try:
        return datetime.fromisoformat(value.upper().replace(" ", "T"))
    except ValueError:
        raise ValueError("is not a valid date and time") from None


# A tap's own time: any RFC 3339 time; judged per tap on arrival (checkpoints.ingestion).
Rfc3339 = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
# What a box's clock says when it sends: any time that exists in UTC (a reset clock is
# corrected on arrival). What a phone says: a time in the platform's window.
Rfc3339Clock = Annotated[ClockTime, BeforeValidator(_rfc3339)]
Rfc3339Moment = Annotated[Moment, BeforeValidator(_rfc3339)]


class TapIn(BaseModel):
    model_config = ConfigDict(strict=True)

    seq: int = Field(ge=0, le=MAX_SEQ, description="The reader's tap counter")
    card_uid: str = Field(
        description="Card UID: 8, 14 or 20 hex characters (separators and case are normalised)"
    )
    tapped_at: Rfc3339 = Field(
        description="When the card was tapped, by the reader's clock. A time that is still "
        "before 2000-01-01T00:00:00Z after clock correction, or none in UTC at all, rejects "
        "the tap alone (bad_timestamp)"
    )


class TapBatch(BaseModel):
    model_config = ConfigDict(
        strict=True,
        json_schema_extra={
            "example": {
                "sent_at": "2027-05-03T08:16:02Z",
                "boot": 7,
                "taps": [
                    {"seq": 1041, "card_uid": "04A1B2C3D4E5F6", "tapped_at": "2027-05-03T08:15:57Z"}
                ],
            }
        },
    )

    sent_at: Rfc3339Clock = Field(description="When the reader sent the batch, by its own clock")
    boot: int = Field(0, ge=0, le=MAX_BOOT, description="The reader's restart counter")
    taps: list[TapIn] = Field(min_length=1, max_length=MAX_TAPS)


class Rejected(BaseModel):
    seq: int
    reason: str = Field(
        description="bad_card_uid, unknown_card, future_timestamp, bad_timestamp or conflict"
    )


class TapsAnswer(BaseModel):
    received: int
    accepted: int
    duplicates: int
    rejected: list[Rejected]
    ack_seq: int = Field(description="The reader may delete every tap with seq <= ack_seq")
    server_time: datetime

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "received": 3,
                "accepted": 1,
                "duplicates": 1,
                "rejected": [{"seq": 1043, "reason": "bad_card_uid"}],
                "ack_seq": 1043,
                "server_time": "2027-05-03T08:16:03Z",
            }
        }
    )


class Heartbeat(BaseModel):
    model_config = ConfigDict(
        strict=True,
        json_schema_extra={
            "example": {
                "sent_at": "2027-05-03T08:16:02Z",
                "battery_pct": 81,
                "firmware": "2.4.1",
                "queue_depth": 0,
            }
        },
    )

    sent_at: Rfc3339Clock = Field(
        description="When the reader sent it, by its own clock. A heartbeat not later than "
        "the last one recorded, or with the same time as one recorded (a replay), is "
        "answered but changes nothing. One over 120 s ahead of the server's clock counts "
        "(the box is flagged clock skewed) but later heartbeats are not compared with it."
    )
    battery_pct: int | None = Field(None, ge=0, le=100)
    firmware: str | None = Field(None, max_length=32)
    queue_depth: int | None = Field(None, ge=0, le=MAX_BOOT)


class HeartbeatAnswer(BaseModel):
    server_time: datetime


class BoxStatus(BaseModel):
    reader_id: str
    checkpoint: str
    checkpoint_name: str
    statuses: list[str] = Field(
        description="ok, or any of silent, low_battery, clock_skewed, counter_conflicts, disabled"
    )
    needs_visit: bool
    last_contact_at: datetime | None
    last_heartbeat_at: datetime | None
    last_upload_at: datetime | None
    last_tap_at: datetime | None
    battery_pct: int | None
    firmware: str | None
    queue_depth: int | None
    clock_offset_s: float | None
    conflicts: int
    taps_today: int


class BoxesAnswer(BaseModel):
    game: str
    generated_at: datetime
    local_date: str
    boxes: list[BoxStatus]


class ReaderCreate(BaseModel):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
    checkpoint: str = Field(min_length=1, max_length=32, description="Checkpoint code")


class ReaderMove(BaseModel):
    checkpoint: str = Field(min_length=1, max_length=32, description="Checkpoint code")
    valid_from: Moment | None = Field(
        None,
        alias="from",
        description="When the box stood at the new checkpoint (default: now). Taps from then "
        "on, including ones already stored, count at the new checkpoint.",
    )


class Assignment(BaseModel):
    checkpoint: str
    valid_from: datetime | None


class ReaderInfo(BaseModel):
    id: str
    checkpoint: str
    disabled: bool
    created_at: datetime
    secret_rotated_at: datetime
    assignments: list[Assignment]


class ReaderSecret(BaseModel):
    id: str
    checkpoint: str
    secret: str = Field(description="Shown once: program it into the box")


class MoveAnswer(BaseModel):
    reader: ReaderInfo
    taps_moved: int = Field(description="Stored taps now counted at the new checkpoint")


# ---------------------------------------------------------------- phone app check-ins


_CHECKIN_EXAMPLE: dict[str, Any] = {
    "client_id": "6f1c2b4e-8a0d-4e7b-9a53-2b7c1d9e0f11",
    "checkpoint": "BB001",
    "lat": 53.78931,
    "lon": -2.23684,
    "accuracy_m": 12.0,
    "at": "2027-05-03T08:15:57+01:00",
}


class CheckinIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [_CHECKIN_EXAMPLE]}
    )

    client_id: UUID = Field(
        description="A UUID the app makes for this check-in: sending it again (a retry) gives "
        "the same answer and never a second tap"
    )
    checkpoint: str = Field(min_length=1, max_length=32, description="The checkpoint's code")
    lat: float = Field(ge=-90, le=90, description="The phone's latitude (WGS84)")
    lon: float = Field(ge=-180, le=180, description="The phone's longitude (WGS84)")
    accuracy_m: float = Field(
        ge=0, le=100_000, description="The position's reported accuracy in metres (50 or better)"
    )
    at: Rfc3339Moment | None = Field(
        None,
        description="When the player was there (RFC 3339 with an offset), for check-ins sent "
        "later; default: now. At most 5 minutes ahead of the server's clock.",
    )

    @field_validator("at", mode="before")
    @classmethod
    def _at_is_text(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            raise ValueError("must be an RFC 3339 time with an offset, e.g. 2027-05-03T08:15:57Z")
        return value


class CheckinOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "client_id": "6f1c2b4e-8a0d-4e7b-9a53-2b7c1d9e0f11",
                    "game": "burnley-2027",
                    "checkpoint": "BB001",
                    "checkpoint_name": "Queen's Park gates",
                    "at": "2027-05-03T07:15:57Z",
                    "outcome": "leg",
                    "points": 10,
                    "distance_m": 742.5,
                    "multiplier": 1.0,
                    "total_points": 130,
                }
            ]
        }
    )

    client_id: UUID
    game: str
    checkpoint: str
    checkpoint_name: str
    at: datetime = Field(description="The tap's time")
    outcome: OutcomeKind = Field(description="How the tap scored (docs/scoring-rules.md)")
    points: int
    distance_m: float = Field(description="The leg's length (0 unless the outcome is a leg)")
    multiplier: float | None = Field(description="The campaign multiplier (1 without one)")
    total_points: int = Field(description="The player's points in the game so far")

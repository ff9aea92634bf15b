"""Request and response bodies of the evaluation API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PreferNotToSay = Literal["prefer_not_to_say"]
Days = Annotated[int, Field(ge=0, le=7)]
Agreement = Annotated[int, Field(ge=1, le=7)]
Belonging = Literal["very", "fairly", "not_very", "not_at_all", "prefer_not_to_say"]
ZeroToTen = Annotated[int, Field(ge=0, le=10)]
Loneliness = Literal[
    "often_always", "some_of_the_time", "occasionally", "hardly_ever", "never", "prefer_not_to_say"
]
_ONS_NOTE = "ONS4, 0-10, asked of players 16 and over when the game asks ons4; " + "{}"

_ITEM_NOTE = "null or absent = not answered; 'prefer_not_to_say' is always accepted"


class SurveyAnswers(BaseModel):
    """The answers of one wave. Every item is optional."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "answered_by": "parent_or_carer",
                    "activity_days": 3,
                    "belonging": "fairly",
                    "nature_beauty": 6,
                    "nature_respect": 7,
                    "nature_happy": 6,
                    "nature_important": "prefer_not_to_say",
                    "nature_amazing": 5,
                    "nature_part": None,
                }
            ]
        },
    )

    answered_by: Literal["self", "parent_or_carer"] = Field(
        "self", description="'parent_or_carer' when an adult answers for a child"
    )
    activity_days: Days | PreferNotToSay | None = Field(
        None,
        description="Days in the past week with 30+ minutes raising breathing rate (0-7); "
        + _ITEM_NOTE,
    )
    belonging: Belonging | None = Field(
        None, description="Belonging to the immediate neighbourhood; " + _ITEM_NOTE
    )
    nature_beauty: Agreement | PreferNotToSay | None = Field(None, description=_ITEM_NOTE)
    nature_respect: Agreement | PreferNotToSay | None = Field(None, description=_ITEM_NOTE)
    nature_happy: Agreement | PreferNotToSay | None = Field(None, description=_ITEM_NOTE)
    nature_important: Agreement | PreferNotToSay | None = Field(None, description=_ITEM_NOTE)
    nature_amazing: Agreement | PreferNotToSay | None = Field(None, description=_ITEM_NOTE)
    nature_part: Agreement | PreferNotToSay | None = Field(None, description=_ITEM_NOTE)
    life_satisfaction: ZeroToTen | PreferNotToSay | None = Field(
        None, description=_ONS_NOTE.format(_ITEM_NOTE)
    )
    worthwhile: ZeroToTen | PreferNotToSay | None = Field(
        None, description=_ONS_NOTE.format(_ITEM_NOTE)
    )
    happiness: ZeroToTen | PreferNotToSay | None = Field(
        None, description=_ONS_NOTE.format(_ITEM_NOTE)
    )
    anxiety: ZeroToTen | PreferNotToSay | None = Field(
        None, description=_ONS_NOTE.format(_ITEM_NOTE)
    )
    loneliness: Loneliness | None = Field(
        None,
        description="ONS 'How often do you feel lonely?', asked of players 12 and over when the "
        "game asks loneliness; " + _ITEM_NOTE,
    )


class SurveyAnswersOut(SurveyAnswers):
    model_config = ConfigDict(extra="forbid")

    game: str
    wave: int
    answered_on: date
    replaced: bool = Field(description="True when this replaced an earlier answer set")


class WaveOut(BaseModel):
    wave: int = Field(examples=[1])
    name: str = Field(examples=["registration"])
    title: str = Field(examples=["At registration"])
    open: bool
    opened_at: datetime | None
    closed_at: datetime | None


class WavesOut(BaseModel):
    game: str
    waves: list[WaveOut]


class QuestionsOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    wave: int
    name: str
    title: str
    items: list[dict[str, Any]]


class ProjectIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "uclan-2027", "k": 10}]},
    )

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description="Lower-case letters, digits, '-' and '_' (it appears in export URLs)",
    )
    k: int = Field(10, ge=10, le=1000, description="k-anonymity: at least 10 (the default)")
    description: str | None = Field(None, max_length=500)


class ProjectOut(BaseModel):
    name: str
    k: int
    description: str | None
    created_at: datetime
    created_by: str
    files: dict[str, str] = Field(description="Where an evaluator token downloads each file")


class ProjectsOut(BaseModel):
    game: str
    projects: list[ProjectOut]


class AreaIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"lad_codes": ["E07000117"]}]}
    )

    lad_codes: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,12}$")]] = Field(
        max_length=50,
        description="Local authority district codes; an empty list returns to the automatic area",
    )


class DistrictOut(BaseModel):
    code: str
    name: str | None


class AreaOut(BaseModel):
    game: str
    method: Literal["organiser", "automatic", "none"]
    definition: str
    districts: list[DistrictOut]
    players_by_district: dict[str, int | str] = Field(
        description="Current players living in each district, disclosure-controlled "
        "(1-7 shown as '*', others rounded to 5)"
    )

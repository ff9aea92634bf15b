"""The evaluation survey: three waves, the items of docs/evaluation.md, one answer set per player
per wave. Organisers open and close waves; a player (or their parent or carer) answers with
the player token while a wave is open. Every item is optional and allows "prefer not to say".

Each game asks the instruments it chose (:mod:`game.instruments`); an answer to an
item the game does not ask, or one the player is too young to be asked, is refused (422,
naming the item) and nothing of that answer set is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from evaluation import repository as repo
from evaluation.models import SurveyResponse, SurveyWave
from evaluation.report_scores import BELONGING_LEVELS, WaveAnswers
from game import instruments as inst
from game.models import Game
from kernel import audit
from kernel.errors import Conflict, Forbidden, Invalid, NotFound

__all__ = [
    "ANSWERED_BY",
    "ITEMS",
    "NATURE_KEYS",
    "PREFER_NOT_TO_SAY",
    "WAVES",
    "erase_player_answers",
    "questions",
    "set_wave_open",
    "submit_answers",
    "wave_answers",
    "waves_of",
]

PREFER_NOT_TO_SAY: Final = "prefer_not_to_say"
ANSWERED_BY: Final = ("self", "parent_or_carer")


@dataclass(frozen=True, slots=True)
class Wave:
    number: int
    key: str
    title: str
    when: str


WAVES: Final = {
    1: Wave(1, "registration", "At registration", "when a player registers"),
    2: Wave(2, "game_end", "At the end of the game", "in the last week of the game"),
    3: Wave(3, "follow_up", "Follow-up", "about six months after the game"),
}

ACTIVITY_TEXT: Final = (
    "In the past week, on how many days have you done a total of 30 minutes or more of "
    "physical activity, which was enough to raise your breathing rate?"
)
BELONGING_TEXT: Final = "How strongly do you feel you belong to your immediate neighbourhood?"
NATURE_INTRO: Final = (
    "How much do you agree with each statement? 1 = completely disagree, 7 = completely agree."
)
#: (answer key, statement) for the six Nature Connection Index items, in the paper's order
NATURE_ITEMS: Final = (
    ("nature_beauty", "I always find beauty in nature"),
    ("nature_respect", "I always treat nature with respect"),
    ("nature_happy", "Being in nature makes me very happy"),
    ("nature_important", "Spending time in nature is very important to me"),
    ("nature_amazing", "I find being in nature really amazing"),
    ("nature_part", "I feel part of nature"),
)
NATURE_KEYS: Final = tuple(key for key, _ in NATURE_ITEMS)
BELONGING_LABELS: Final = {
    "very": "Very strongly",
    "fairly": "Fairly strongly",
    "not_very": "Not very strongly",
    "not_at_all": "Not at all strongly",
}
#: ONS personal well-being (ONS4): (answer key, question, 0 label, 10 label)
ONS4_QUESTIONS: Final = (
    (
        "life_satisfaction",
        "Overall, how satisfied are you with your life nowadays?",
        "not at all satisfied",
        "completely satisfied",
    ),
    (
        "worthwhile",
        "Overall, to what extent do you feel that the things you do in your life are worthwhile?",
        "not at all worthwhile",
        "completely worthwhile",
    ),
    (
        "happiness",
        "Overall, how happy did you feel yesterday?",
        "not at all happy",
        "completely happy",
    ),
    (
        "anxiety",
        "On a scale where 0 is 'not at all anxious' and 10 is 'completely anxious', overall, "
        "how anxious did you feel yesterday?",
        "not at all anxious",
        "completely anxious",
    ),
)
ONS4_INTRO: Final = (
    "Next are questions about your feelings on aspects of your life. There are no right or "
    "wrong answers. For each of these questions give an answer on a scale of 0 to 10, where "
    "0 is 'not at all' and 10 is 'completely'."
)
#: the ONS direct loneliness question (the same wording for adults and for children 10-15)
LONELINESS_TEXT: Final = "How often do you feel lonely?"
LONELINESS_LABELS: Final = {
    "often_always": "Often or always",
    "some_of_the_time": "Some of the time",
    "occasionally": "Occasionally",
    "hardly_ever": "Hardly ever",
    "never": "Never",
}
ITEMS: Final = (
    "activity_days",
    "belonging",
    *NATURE_KEYS,
    *inst.ONS4_ITEMS,
    "loneliness",
)
INSTRUMENT_OF: Final = {item: name for name, items in inst.ITEMS.items() for item in items}

_PNTS = {"value": PREFER_NOT_TO_SAY, "label": "Prefer not to say"}


def _scale(low: int, high: int, labels: dict[int, str] | None = None) -> list[dict[str, Any]]:
    labels = labels or {}
    return [{"value": v, "label": labels.get(v, str(v))} for v in range(low, high + 1)]


def _items_of(instrument: str) -> list[dict[str, Any]]:
    nature_labels = {1: "1 - completely disagree", 7: "7 - completely agree"}
    if instrument == "activity":
        return [
            {
                "key": "activity_days",
                "text": ACTIVITY_TEXT,
                "source": "Single-item physical activity measure (Milton et al. 2011)",
                "answers": [*_scale(0, 7), _PNTS],
            }
        ]
    if instrument == "belonging":
        return [
            {
                "key": "belonging",
                "text": BELONGING_TEXT,
                "source": "Community Life Survey",
                "answers": [
                    *(
                        {"value": v, "label": BELONGING_LABELS[v]}
                        for v in reversed(BELONGING_LEVELS)
                    ),
                    _PNTS,
                ],
            }
        ]
    if instrument == "nature":
        return [
            {
                "key": key,
                "text": text,
                "intro": NATURE_INTRO,
                "source": "Nature Connection Index (Richardson et al. 2019)",
                "answers": [*_scale(1, 7, nature_labels), _PNTS],
            }
            for key, text in NATURE_ITEMS
        ]
    if instrument == "ons4":
        return [
            {
                "key": key,
                "text": text,
                "intro": ONS4_INTRO,
                "source": "ONS personal well-being (ONS4), Office for National Statistics",
                "answers": [*_scale(0, 10, {0: f"0 - {low}", 10: f"10 - {high}"}), _PNTS],
            }
            for key, text, low, high in ONS4_QUESTIONS
        ]
    return [
        {
            "key": "loneliness",
            "text": LONELINESS_TEXT,
            "source": "ONS direct measure of loneliness (national measurement, 2018)",
            "answers": [
                *({"value": v, "label": label} for v, label in LONELINESS_LABELS.items()),
                _PNTS,
            ],
        }
    ]


def questions(wave: int, instruments: tuple[str, ...] = inst.DEFAULT_INSTRUMENTS) -> dict[str, Any]:
    """The questions of a wave for a game's instruments (the same items at every wave, so
    answers can be paired). Each item names its instrument and who is asked it."""
    info = WAVES[wave]
    return {
        "wave": wave,
        "name": info.key,
        "title": info.title,
        "when": info.when,
        "answered_by": list(ANSWERED_BY),
        "instruments": list(instruments),
        "note": "Every question is optional and can be answered 'prefer not to say'. A parent "
        "or carer answers for a child (answered_by: parent_or_carer), as the child would. "
        "Some questions are asked only from an age (asked_of).",
        "items": [
            {**item, "instrument": name, "asked_of": inst.asked_of(name)}
            for name in instruments
            for item in _items_of(name)
        ],
    }


def check_items_asked(
    answers: dict[str, Any], instruments: tuple[str, ...], age_band: str | None
) -> None:
    """Refuse (422, naming each item) answers to items the game does not ask, or that a
    player of this age band is not asked."""
    problems = []
    for key in ITEMS:
        if answers.get(key) is None:
            continue
        name = INSTRUMENT_OF[key]
        if name not in instruments:
            problems.append({"field": key, "message": "this game does not ask this question"})
        elif not inst.eligible(name, age_band):
            problems.append(
                {
                    "field": key,
                    "message": f"asked of players {inst.asked_of(name)} (by their age band)",
                }
            )
    if problems:
        raise Invalid(
            "some answers are to questions this player is not asked: "
            + ", ".join(p["field"] for p in problems),
            fields=problems,
        )


def _wave_or_404(wave: int) -> Wave:
    info = WAVES.get(wave)
    if info is None:
        raise NotFound(f"there is no survey wave {wave} (waves are 1, 2 and 3)")
    return info


async def waves_of(session: AsyncSession, game: Game) -> list[dict[str, Any]]:
    states = await repo.wave_states(session, game.id)
    out = []
    for number, info in WAVES.items():
        state = states.get(number)
        out.append(
            {
                "wave": number,
                "name": info.key,
                "title": info.title,
                "open": bool(state and state.is_open),
                "opened_at": state.opened_at if state else None,
                "closed_at": state.closed_at if state else None,
            }
        )
    return out


async def set_wave_open(
    session: AsyncSession, game: Game, wave: int, *, is_open: bool, actor: str, now: datetime
) -> SurveyWave:
    _wave_or_404(wave)
    state = await repo.mark_wave(session, game.id, wave, is_open=is_open, at=now)
    audit.record(
        session,
        actor=actor,
        action="survey.open" if is_open else "survey.close",
        game_id=game.id,
        wave=wave,
    )
    return state


def _local_date(game: Game, now: datetime) -> date:
    try:
        return now.astimezone(ZoneInfo(game.timezone)).date()
    except (KeyError, ValueError):  # an unknown zone name: UTC date
        return now.date()


@dataclass(frozen=True, slots=True)
class Submitted:
    replaced: bool
    answered_on: date


async def submit_answers(
    session: AsyncSession,
    game: Game,
    player_id: int,
    wave: int,
    answers: dict[str, Any],
    *,
    answered_by: str,
    now: datetime,
) -> Submitted:
    """Store (or replace) a player's answers to an open wave.

    ``answers`` maps item keys to a value, ``"prefer_not_to_say"`` or ``None`` (not
    answered); values are already validated (see the API schema)."""
    _wave_or_404(wave)
    player = await repo.player(session, player_id)
    if player is None or player.game_id != game.id:
        raise Forbidden("this player token is for another game")
    if player.erased_at is not None:
        raise Conflict("this player's data was erased")
    state = await repo.wave_state(session, game.id, wave)
    if state is None or not state.is_open:
        raise Conflict(f"survey wave {wave} is closed")
    if answered_by not in ANSWERED_BY:
        raise ValueError(f"answered_by must be one of {ANSWERED_BY}")
    check_items_asked(answers, inst.chosen(game.survey_instruments), player.age_band)
    declined = [key for key in ITEMS if answers.get(key) == PREFER_NOT_TO_SAY]
    values: dict[str, Any] = {
        key: None if answers.get(key) == PREFER_NOT_TO_SAY else answers.get(key) for key in ITEMS
    }
    existing = await repo.response_of(session, game.id, player_id, wave)
    on = _local_date(game, now)
    await repo.upsert_response(
        session,
        {
            "game_id": game.id,
            "player_id": player_id,
            "wave": wave,
            "answered_by": answered_by,
            **values,
            "declined": declined,
            "answered_on": on,
            "submitted_at": now,
        },
    )
    return Submitted(replaced=existing is not None, answered_on=on)


def to_answers(response: SurveyResponse) -> dict[str, Any]:
    """A stored answer set as the API shows it (declined items as "prefer_not_to_say")."""
    declined = set(response.declined or ())
    out: dict[str, Any] = {}
    for key in ITEMS:
        value = getattr(response, key)
        out[key] = PREFER_NOT_TO_SAY if key in declined else value
    return out


async def wave_answers(
    session: AsyncSession, game: Game, player_id: int, wave: int
) -> SurveyResponse | None:
    _wave_or_404(wave)
    player = await repo.player(session, player_id)
    if player is None or player.game_id != game.id:
        raise Forbidden("this player token is for another game")
    return await repo.response_of(session, game.id, player_id, wave)


def wave_answers_of_row(row: tuple[Any, ...]) -> WaveAnswers:
    """(activity, belonging, six nature items[, four ONS4 items, loneliness]) -> WaveAnswers."""
    activity, belonging, *rest = row
    nature, extra = rest[: len(NATURE_KEYS)], rest[len(NATURE_KEYS) :]
    ons = dict(zip(inst.ONS4_ITEMS, extra[: len(inst.ONS4_ITEMS)], strict=False))
    loneliness = extra[len(inst.ONS4_ITEMS)] if len(extra) > len(inst.ONS4_ITEMS) else None
    return WaveAnswers(
        activity_days=activity,
        belonging=belonging,
        nature=tuple(nature),
        loneliness=loneliness,
        **ons,
    )


async def erase_player_answers(session: AsyncSession, player_id: int) -> int:
    """Delete every survey answer of a player (erasure); returns the answer sets removed."""
    return await repo.delete_responses_of_player(session, player_id)

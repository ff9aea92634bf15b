"""One holder's stored taps as the engine reads them (:class:`Row`), and re-deriving
them (:func:`score_rows`): the part shared by incremental scoring and the portable full
re-score. Pure: no SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from kernel import vocabulary
from scoring import engine
from scoring.context import ScoringContext

_ONE = Decimal(1)


class Row:
    """One stored tap: what the engine reads of a tap (the attributes of ``engine.Tap``,
    which the engine only reads) plus the outcome stored for it.

    Scoring a large game builds one per tap, so this is a plain slotted class rather than an
    ``engine.Tap`` plus the database row.
    """

    __slots__ = (
        "id",
        "key",
        "checkpoint_code",
        "tapped_at",
        "card_valid_from",
        "card_valid_until",
        "outcome",
        "points",
        "distance_m",
        "multiplier",
        "campaign_id",
        "team_id",
        "local_date",
    )

    def __init__(
        self,
        r: Sequence[Any],
        codes: dict[int, str],
        validity: dict[int, tuple[datetime | None, datetime | None]],
    ) -> None:
        # r in inputs.TAP_TUPLE order
        self.id = r[0]
        self.key = r[2]
        self.checkpoint_code = codes.get(r[3], "")
        self.tapped_at = r[5]
        limits = validity.get(r[4])
        if limits is None:
            self.card_valid_from = self.card_valid_until = None
        else:
            self.card_valid_from, self.card_valid_until = limits
        self.outcome = r[6]
        self.points = r[7]
        self.distance_m = r[8]
        self.multiplier = r[9]
        self.campaign_id = r[10]
        self.team_id = r[11]
        self.local_date = r[12]


_row_order = engine.sort_key


def _stored_outcome(row: Row, campaign_codes: dict[int, str]) -> engine.Outcome:
    return engine.Outcome(
        key=row.key,
        outcome=cast(str, row.outcome),
        points=row.points,
        distance_m=row.distance_m,
        multiplier=Decimal(row.multiplier) if row.multiplier is not None else _ONE,
        campaign_code=campaign_codes.get(row.campaign_id) if row.campaign_id else None,
        team_id=row.team_id,
        local_date=cast(date, row.local_date),
        counted=row.outcome != vocabulary.OUT_OF_GAME,
    )


def score_rows(
    rows: list[Row],
    holder: engine.Holder,
    ctx: ScoringContext,
    *,
    from_first_unscored: bool,
    state: engine.ScoringState | None = None,
) -> tuple[list[tuple[Row, tuple[Any, ...]]], engine.ScoringState | None]:
    """Re-derives a holder's taps (all, or from the earliest unscored one in scoring order)
    and returns the rows whose outcome changed with their new outcome tuple
    (``scoring.outcomes.OUTCOME_FIELDS`` order), and the engine's state after the last row
    (None when nothing was derived).

    With ``state`` (the state after every tap of the holder that sorts before ``rows``),
    every row is derived from it: the rows need no history before them."""
    rows.sort(key=_row_order)  # type: ignore[arg-type]
    if not rows:
        return [], None
    if state is not None:
        todo = rows
    elif from_first_unscored:
        start = next((i for i, r in enumerate(rows) if r.outcome is None), len(rows))
        if start == len(rows):
            return [], None
        prior = [(r, _stored_outcome(r, ctx.campaign_codes)) for r in rows[:start]]
        state = engine.state_before(cast(list[tuple[engine.Tap, engine.Outcome]], prior))
        todo = rows[start:]
    else:
        state = engine.INITIAL_STATE
        todo = rows
    outcomes, after = engine.score_from(state, cast(list[engine.Tap], todo), holder, ctx.game)
    campaign_ids = ctx.campaign_ids
    changed: list[tuple[Row, tuple[Any, ...]]] = []
    for row, out in zip(todo, outcomes, strict=True):
        code = out.campaign_code
        campaign_id = campaign_ids.get(code) if code is not None else None
        if (
            row.outcome == out.outcome
            and row.points == out.points
            and row.campaign_id == campaign_id
            and row.team_id == out.team_id
            and row.local_date == out.local_date
            and abs(row.distance_m - out.distance_m) < 1e-6
            and (row.multiplier if row.multiplier is not None else _ONE) == out.multiplier
        ):
            continue
        changed.append(
            (
                row,
                (
                    row.id,
                    out.outcome,
                    out.points,
                    out.distance_m,
                    out.multiplier,
                    campaign_id,
                    out.team_id,
                    out.local_date,
                ),
            )
        )
    return changed, after


def engine_holder(
    holder_id: int, ages: dict[int, str | None], periods: dict[int, list[Any]]
) -> engine.Holder:
    return engine.Holder(
        age_band=ages.get(holder_id),
        team_periods=tuple(
            engine.TeamPeriod(valid_from=vf, team_id=team)
            for vf, team in periods.get(holder_id, [])
        ),
    )

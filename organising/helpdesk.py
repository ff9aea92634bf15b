"""The help-desk view of a card: "my card didn't count".

Everything about one card a help desk needs, and nothing personal beyond the nickname and
age band: the holder, its team, its points, and every tap of the holder (this card's and its
other cards') with raw and corrected time, box, outcome, points, distance, campaign and a
plain-words explanation; plus the rejected taps of this card's UID and their reasons.

Taps made with a card after it was replaced (a lost card: whoever found it is walking) stay
with the holder's taps here, labelled ``after_replacement``: they count for nobody, and this
organisers' view is the only place they are shown (the player's own view leaves them out).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from game.models import Campaign, Checkpoint, Game, Tap, Team
from game.schemas import (
    HelpdeskCard,
    HelpdeskPlayer,
    HelpdeskRejection,
    HelpdeskTap,
    HelpdeskTeam,
    HelpdeskView,
)
from kernel import vocabulary
from kernel.errors import NotFound
from kernel.geodesy import haversine_m, km
from organising import admin_repository as repo
from people.models import Card
from scoring import engine

_ANCHORS = frozenset(
    (
        vocabulary.JOURNEY_START,
        vocabulary.REPEAT,
        vocabulary.TOO_FAST,
        vocabulary.LEG,
        vocabulary.CAPPED,
    )
)


async def card_view(session: AsyncSession, game: Game, number: str) -> HelpdeskView:
    """The card printed with ``number`` (leading zeros may be left out: "42" is "0000042")."""
    card = await repo.card_by_printed_number(session, game.id, number.strip())
    if card is None:
        raise NotFound(f"no card '{number}' in game '{game.slug}'")
    holder_id = card.holder_id
    cards = {c.id: c for c in await repo.holder_cards(session, game.id, holder_id)}
    player = await repo.player_of(session, game.id, holder_id)
    teams = await repo.teams(session, game.id)
    checkpoints = await repo.checkpoints(session, game.id)
    campaigns = await repo.campaigns(session, game.id)
    team_id = await repo.current_team_id(session, game.id, holder_id)
    total = await repo.holder_total(session, game.id, holder_id)
    taps = sorted(
        await repo.holder_taps(session, game.id, holder_id),
        key=lambda t: (t.tapped_at, _code(checkpoints, t.checkpoint_id), t.source_key),
    )
    rejected = await repo.rejections_of_uid(session, game.id, card.uid)
    explain = _Explainer(game, checkpoints, cards)
    team = teams.get(team_id) if team_id is not None else None
    return HelpdeskView(
        game=game.slug,
        card=HelpdeskCard(
            number=card.number,
            uid=card.uid,
            kind=card.kind,
            valid_from=card.valid_from,
            valid_until=card.valid_until,
            issued_team=_team_code(teams, card.issued_team_id),
        ),
        holder_id=holder_id,
        registered=player is not None,
        player=None
        if player is None
        else HelpdeskPlayer(
            player_id=player.id,
            nickname=player.nickname,
            public=player.public,
            age_band=player.age_band,
            registered_at=player.registered_at,
            erased=player.erased_at is not None,
        ),
        team=None if team is None else HelpdeskTeam(code=team.code, name=team.name, kind=team.kind),
        other_cards=sorted(c.number for c in cards.values() if c.id != card.id),
        points=total.points if total else 0,
        distance_km=km(total.distance_m if total else 0.0),
        legs=total.legs if total else 0,
        taps_total=len(taps),
        card_points=sum(t.points for t in taps if t.card_id == card.id),
        taps=[
            _tap_out(t, card, cards, checkpoints, campaigns, teams, explain.next(t)) for t in taps
        ],
        rejected=[
            HelpdeskRejection(
                reason=r.reason,
                reader_id=r.reader_id,
                tapped_at=r.tapped_at,
                tapped_at_raw=r.tapped_at_raw,
                received_at=r.received_at,
                card_uid_raw=r.card_uid_raw,
            )
            for r in rejected
        ],
    )


def _code(checkpoints: dict[int, Checkpoint], checkpoint_id: int) -> str:
    cp = checkpoints.get(checkpoint_id)
    return cp.code if cp else ""


def _team_code(teams: dict[int, Team], team_id: int | None) -> str | None:
    team = teams.get(team_id) if team_id is not None else None
    return team.code if team else None


def _tap_out(
    tap: Tap,
    card: Card,
    cards: dict[int, Card],
    checkpoints: dict[int, Checkpoint],
    campaigns: dict[int, Campaign],
    teams: dict[int, Team],
    explanation: str,
) -> HelpdeskTap:
    cp = checkpoints.get(tap.checkpoint_id)
    camp = campaigns.get(tap.campaign_id) if tap.campaign_id is not None else None
    tap_card = cards.get(tap.card_id)
    return HelpdeskTap(
        card=tap_card.number if tap_card else "?",
        this_card=tap.card_id == card.id,
        tapped_at=tap.tapped_at,
        tapped_at_raw=tap.tapped_at_raw,
        clock_corrected_s=(tap.tapped_at - tap.tapped_at_raw).total_seconds(),
        received_at=tap.received_at,
        local_date=tap.local_date,
        checkpoint=cp.code if cp else "?",
        checkpoint_name=cp.name if cp else "?",
        source=tap.source,
        reader_id=tap.reader_id,
        outcome=tap.outcome,
        points=tap.points,
        distance_m=round(tap.distance_m, 1),
        multiplier=float(tap.multiplier) if tap.multiplier is not None else None,
        campaign=camp.code if camp else None,
        team=_team_code(teams, tap.team_id),
        after_replacement=_after_replacement(tap, tap_card),
        explanation=explanation,
    )


def _after_replacement(tap: Tap, card: Card | None) -> bool:
    return card is not None and card.valid_until is not None and tap.tapped_at >= card.valid_until


class _Explainer:
    """Plain-words reasons, walking the holder's taps in scoring order."""

    def __init__(self, game: Game, checkpoints: dict[int, Checkpoint], cards: dict[int, Card]):
        self.game = game
        self.tz = ZoneInfo(game.timezone)
        self.checkpoints = checkpoints
        self.cards = cards
        self.anchor: Tap | None = None

    def _at(self, when: datetime) -> str:
        return when.astimezone(self.tz).strftime("%H:%M")

    def _cp(self, tap: Tap) -> str:
        return _code(self.checkpoints, tap.checkpoint_id)

    def next(self, tap: Tap) -> str:
        text = self._explain(tap)
        if tap.outcome in _ANCHORS:
            self.anchor = tap
        return text

    def _explain(self, tap: Tap) -> str:
        game, anchor = self.game, self.anchor
        kind = tap.outcome
        if kind is None:
            return "not scored yet"
        if kind == vocabulary.OUT_OF_GAME:
            return self._out_of_game(tap)
        gap = (tap.tapped_at - anchor.tapped_at) if anchor is not None else None
        minutes = f"{gap.total_seconds() / 60:.0f} min" if gap is not None else ""
        if kind == vocabulary.JOURNEY_START:
            if anchor is None or gap is None:
                return "first counted tap: starts a journey"
            return (
                f"starts a new journey: {minutes} after the tap at {self._cp(anchor)} "
                f"({self._at(anchor.tapped_at)}), more than the "
                f"{game.journey_window_minutes}-minute window"
            )
        if anchor is None or gap is None:
            return kind.replace("_", " ")
        if kind == vocabulary.REPEAT:
            return (
                f"same box as the tap at {self._at(anchor.tapped_at)}, {minutes} before: "
                "no points; the journey clock restarts"
            )
        if kind == vocabulary.TOO_FAST:
            a = self.checkpoints.get(anchor.checkpoint_id)
            b = self.checkpoints.get(tap.checkpoint_id)
            seconds = gap.total_seconds()
            if a is None or b is None or seconds <= 0:
                return f"too fast: no time passed since the tap at {self._cp(anchor)}"
            kmh = engine.speed_kmh(haversine_m(a.lat, a.lon, b.lat, b.lon), seconds)
            return (
                f"too fast: {kmh:.0f} km/h from {a.code} ({self._at(anchor.tapped_at)}) is "
                f"over the {game.max_speed_kmh:g} km/h limit; counts as a new start"
            )
        if kind == vocabulary.CAPPED:
            return f"a leg, but the daily cap of {game.max_points_per_day} points was reached"
        # a leg
        text = f"leg of {tap.distance_m:.0f} m from {self._cp(anchor)} in {minutes}"
        mult = tap.multiplier
        if mult is not None and mult != 1:
            text += f", ×{float(mult):g} campaign"
        full = engine.round_half_up(Decimal(game.points_per_leg) * (mult or Decimal(1)))
        if game.max_points_per_day is not None and tap.points < full:
            text += f"; cut to {tap.points} by the daily cap of {game.max_points_per_day}"
        return text + f": {tap.points} points"

    def _out_of_game(self, tap: Tap) -> str:
        game = self.game
        card = self.cards.get(tap.card_id)
        if card is not None and card.valid_until is not None and _after_replacement(tap, card):
            return (
                f"card {card.number} was replaced on "
                f"{card.valid_until.astimezone(self.tz):%Y-%m-%d at %H:%M}: whoever has it now "
                "is not this player, so the tap counts for nobody and players never see it"
            )
        if tap.tapped_at < game.starts_at:
            return "before the game started: no points"
        if tap.tapped_at >= game.ends_at:
            return "after the game ended: no points"
        cp = self.checkpoints.get(tap.checkpoint_id)
        if cp is not None and (
            (cp.active_from is not None and tap.tapped_at < cp.active_from)
            or (cp.active_to is not None and tap.tapped_at >= cp.active_to)
        ):
            return f"box {cp.code} was not active at that time: no points"
        if card is not None and card.valid_from is not None and tap.tapped_at < card.valid_from:
            return f"card {card.number} was not valid yet at that time: no points"
        return "outside the game: no points"


def summary(view: HelpdeskView) -> Sequence[str]:
    """One line per tap, for the command line."""
    return [
        f"{t.tapped_at.isoformat()} {t.checkpoint:<8} {t.outcome or '-':<14} {t.points:>4}  "
        f"{t.explanation}"
        for t in view.taps
    ]

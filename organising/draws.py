"""Lucky-tap draws (docs/scoring-rules.md "Lucky taps").

An organiser schedules daily draws for a game: N winners per local day (game timezone),
drawn uniformly from the registered players (not erased) with at least one counted tap that
day (``HolderDay.counted_taps > 0``). A day is drawn only after it has ended in the game's
timezone, and once per schedule: on request (any time after its end), or by
:func:`run_due_draws` (:data:`DRAW_DELAY` after its end, so boxes that upload late still
count).

Reproducing a draw: each draw records its ``seed``, the sorted candidate player ids and
``candidates_sha256`` = SHA-256 (hex) of those ids written in decimal and joined by commas
(``"3,8,15"``). The winners, in drawing order, are exactly::

    import random
    random.Random(seed).sample(sorted(candidate_ids), min(winners_per_day, len(candidate_ids)))

(Python's ``random.Random`` with an integer seed is the same Mersenne Twister, and ``sample``
the same algorithm, on every platform and on every Python 3 version since 3.2.) Anyone can
recompute the candidates from the ledger (the holders' per-day totals) and check the hash.

Services never commit; the caller does (and on SQLite holds the app's writing lock,
``AppState.writing()``).
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from game.models import Game, LuckyDraw, LuckyDrawSchedule, LuckyDrawWinner
from game.schemas import DrawDetail, DrawOut, DrawScheduleIn, DrawScheduleOut, WinnerOut
from kernel import audit
from kernel.errors import Conflict, Invalid, NotFound
from kernel.times import EARLIEST, LATEST, WINDOW_TEXT
from organising import admin_repository as repo

# A day is drawn automatically this long after it ends (late uploads still count).
DRAW_DELAY = timedelta(hours=1)


def candidates_sha256(candidate_ids: Sequence[int]) -> str:
    """SHA-256 (hex) of the sorted ids in decimal, joined by commas."""
    text = ",".join(str(i) for i in sorted(candidate_ids))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def draw_winners(seed: int, candidate_ids: Sequence[int], n: int) -> list[int]:
    """The winners of a draw, in drawing order (a pure function of its inputs)."""
    ordered = sorted(candidate_ids)
    return random.Random(seed).sample(ordered, min(n, len(ordered)))


def new_seed() -> int:
    return secrets.randbits(63)


def game_days(game: Game) -> tuple[date, date]:
    """The first and last local days of the game period ``[starts_at, ends_at)``."""
    tz = ZoneInfo(game.timezone)
    first = game.starts_at.astimezone(tz).date()
    last = (game.ends_at - timedelta(microseconds=1)).astimezone(tz).date()
    return first, last


def schedule_days(schedule: LuckyDrawSchedule, game: Game) -> tuple[date, date]:
    first, last = game_days(game)
    return max(first, schedule.from_date or first), min(last, schedule.to_date or last)


def day_end(game: Game, day: date) -> datetime:
    """The instant ``day`` ends in the game's timezone."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=ZoneInfo(game.timezone))


async def schedule_draws(
    session: AsyncSession, game: Game, data: DrawScheduleIn, *, actor: str
) -> LuckyDrawSchedule:
    first, last = game_days(game)
    if data.from_date and data.to_date and data.to_date < data.from_date:
        raise Invalid(
            "to_date must not be before from_date",
            fields=[{"field": "to_date", "message": "must not be before from_date"}],
        )
    for name in ("from_date", "to_date"):
        value = getattr(data, name)
        if value is not None and not first <= value <= last:
            raise Invalid(
                f"{name} must be a day of the game ({first} to {last})",
                fields=[{"field": name, "message": f"must be between {first} and {last}"}],
            )
    schedule = LuckyDrawSchedule(
        game_id=game.id,
        winners_per_day=data.winners_per_day,
        from_date=data.from_date,
        to_date=data.to_date,
        created_by=actor,
    )
    session.add(schedule)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="draws.schedule",
        game_id=game.id,
        schedule_id=schedule.id,
        winners_per_day=data.winners_per_day,
        from_date=str(data.from_date) if data.from_date else None,
        to_date=str(data.to_date) if data.to_date else None,
    )
    return schedule


async def _draw(
    session: AsyncSession,
    game: Game,
    schedule: LuckyDrawSchedule,
    day: date,
    *,
    actor: str,
    seed: int | None = None,
) -> LuckyDraw:
    candidates = await repo.draw_candidates(session, game.id, day)
    seed = new_seed() if seed is None else seed
    chosen = draw_winners(seed, candidates, schedule.winners_per_day)
    draw = LuckyDraw(
        game_id=game.id,
        schedule_id=schedule.id,
        local_date=day,
        winners_requested=schedule.winners_per_day,
        seed=seed,
        candidate_count=len(candidates),
        candidates_sha256=candidates_sha256(candidates),
        candidate_ids=candidates,
        drawn_by=actor,
    )
    session.add(draw)
    await session.flush()
    session.add_all(
        LuckyDrawWinner(draw_id=draw.id, position=i, game_id=game.id, player_id=player_id)
        for i, player_id in enumerate(chosen, start=1)
    )
    audit.record(
        session,
        actor=actor,
        action="draws.run",
        game_id=game.id,
        draw_id=draw.id,
        date=str(day),
        seed=seed,
        candidates=len(candidates),
        candidates_sha256=draw.candidates_sha256,
        winners=chosen,
    )
    await session.flush()
    return draw


async def run_draws_for_day(
    session: AsyncSession, game: Game, day: date, *, actor: str, now: datetime
) -> tuple[list[LuckyDraw], list[LuckyDraw]]:
    """Draws ``day`` for every schedule covering it that has not drawn it yet; returns
    (new draws, earlier draws of that day). A day is drawn only after it has ended in the
    game's timezone (everyone who tapped that day has a chance): 422 before that, and for
    a day outside the platform's window of times (``kernel.times``)."""
    if not EARLIEST.date() <= day < LATEST.date():
        raise Invalid(
            f"{day} is not a day a game can have",
            fields=[{"field": "date", "message": f"must be between {WINDOW_TEXT}"}],
        )
    ends = day_end(game, day)
    if now < ends:
        raise Invalid(
            f"the day {day} ends at {ends:%Y-%m-%d %H:%M} {game.timezone}; draw after that",
            fields=[{"field": "date", "message": "the day has not ended yet"}],
        )
    schedules = await repo.lock_schedules(session, game.id, skip_locked=False)
    covering = [s for s in schedules if _covers(s, game, day)]
    if not covering:
        raise Conflict(f"no lucky-tap draw is scheduled for {day} in game '{game.slug}'")
    earlier = list(await repo.draws(session, game.id, day))
    done = {d.schedule_id for d in earlier}
    new = [await _draw(session, game, s, day, actor=actor) for s in covering if s.id not in done]
    return new, earlier


def _covers(schedule: LuckyDrawSchedule, game: Game, day: date) -> bool:
    first, last = schedule_days(schedule, game)
    return first <= day <= last


async def run_due_draws(
    session: AsyncSession,
    now: datetime,
    *,
    delay: timedelta = DRAW_DELAY,
    actor: str = "system",
    game_id: int | None = None,
) -> list[LuckyDraw]:
    """Draws every scheduled day (of every game) that ended at least ``delay`` before ``now``
    and has not been drawn. Safe to call often and from several processes at once: on
    PostgreSQL each schedule is row-locked while drawn (others skip it) and a day is drawn
    once per schedule (unique constraint). The caller commits (on SQLite inside
    ``AppState.writing()``). ``game_id`` limits it to one game."""
    schedules = await repo.lock_schedules(session, game_id, skip_locked=True)
    if not schedules:
        return []
    games = await repo.games_by_id(session, sorted({s.game_id for s in schedules}))
    done = await repo.drawn_days(session, [s.id for s in schedules])
    made: list[LuckyDraw] = []
    for schedule in schedules:
        game = games[schedule.game_id]
        first, last = schedule_days(schedule, game)
        day = first
        while day <= last and day_end(game, day) + delay <= now:
            if (schedule.id, day) not in done:
                made.append(await _draw(session, game, schedule, day, actor=actor))
            day += timedelta(days=1)
    return made


async def draw_outs(session: AsyncSession, draws: Sequence[LuckyDraw]) -> list[DrawOut]:
    winners = await repo.winners(session, [d.id for d in draws])
    return [_draw_out(d, winners.get(d.id, [])) for d in draws]


def _draw_out(draw: LuckyDraw, winners: list[tuple[int, int | None, str | None]]) -> DrawOut:
    return DrawOut(
        id=draw.id,
        schedule_id=draw.schedule_id,
        date=draw.local_date,
        winners_requested=draw.winners_requested,
        seed=draw.seed,
        candidate_count=draw.candidate_count,
        candidates_sha256=draw.candidates_sha256,
        drawn_at=draw.drawn_at,
        drawn_by=draw.drawn_by,
        winners=[WinnerOut(position=p, player_id=pid, nickname=nick) for p, pid, nick in winners],
    )


def schedule_out(schedule: LuckyDrawSchedule) -> DrawScheduleOut:
    return DrawScheduleOut(
        id=schedule.id,
        winners_per_day=schedule.winners_per_day,
        from_date=schedule.from_date,
        to_date=schedule.to_date,
        created_by=schedule.created_by,
        created_at=schedule.created_at,
    )


async def draw_detail(session: AsyncSession, game: Game, draw: LuckyDraw) -> DrawDetail:
    """A draw with its candidates and a check that the record reproduces its winners."""
    out = (await draw_outs(session, [draw]))[0]
    ids = [int(i) for i in draw.candidate_ids]
    n = min(draw.winners_requested, len(ids))
    now_ids = await repo.draw_candidates(session, game.id, draw.local_date)
    return DrawDetail(
        **out.model_dump(),
        candidate_ids=ids,
        reproduce=(
            f"import random; ids = <candidate_ids>; "
            f"print(random.Random({draw.seed}).sample(sorted(ids), {n}))"
        ),
        recorded_hash_ok=candidates_sha256(ids) == draw.candidates_sha256,
        winners_reproduced=draw_winners(draw.seed, ids, draw.winners_requested)
        == [w.player_id for w in out.winners],
        candidates_now_sha256=candidates_sha256(now_ids),
    )


# --------------------------------------------------------------------------- winners' prizes


async def winner_contacts(
    session: AsyncSession, game: Game, draw_id: int, *, actor: str
) -> list[tuple[int, int | None, str | None, str | None]]:
    """A draw's winners with their contact e-mail, for its organisers only: every look is
    recorded in the audit trail (who, which draw, whose contact details)."""
    found = await repo.draws(session, game.id, draw_id=draw_id)
    if not found:
        raise NotFound(f"no draw {draw_id} in game '{game.slug}'")
    rows = await repo.winner_contacts(session, game.id, draw_id)
    audit.record(
        session,
        actor=actor,
        action="draws.contacts_viewed",
        game_id=game.id,
        draw_id=draw_id,
        players=[r[1] for r in rows],
    )
    return rows


async def set_prize_sent(
    session: AsyncSession,
    game: Game,
    draw_id: int,
    position: int,
    sent: bool,
    *,
    actor: str,
    now: datetime,
) -> LuckyDrawWinner:
    winner = await repo.draw_winner(session, game.id, draw_id, position)
    if winner is None:
        raise NotFound(f"no winner {position} in draw {draw_id} of game '{game.slug}'")
    if (winner.prize_sent_at is not None) != sent:
        winner.prize_sent_at = now if sent else None
        audit.record(
            session,
            actor=actor,
            action="draws.prize_sent" if sent else "draws.prize_not_sent",
            game_id=game.id,
            draw_id=draw_id,
            position=position,
            player_id=winner.player_id,
        )
    return winner

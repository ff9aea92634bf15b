"""Reader management for organisers: create, rotate secrets, disable/enable, move.

Secrets are 32 random bytes, shown once and stored encrypted with the server key.

Every function acts within one game (the caller's authority is checked on that game): a
reader of another game is not found here (``reader_of_game``, ``locked_reader``) and its id
cannot be created again; readers move between games only through a game file loaded with
both games in the actor's scope (see organising/loading.py).

Moving a reader records a new placement from a given time. Taps made before it stay with
the old checkpoint. Taps already stored from that time on are re-resolved to the new
checkpoint and their holders re-scored: a council that reports "we moved the box at noon"
at three o'clock gets the afternoon's taps counted where they were really made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from checkpoints import repository as repo
from checkpoints.ingestion import FUTURE_TOLERANCE, placement_at
from checkpoints.models import Reader, ReaderAssignment
from checkpoints.signing import generate_secret
from game.holder_scoring import HolderScoring
from game.models import Game
from game.totals import TotalsDelta
from kernel import audit
from kernel.errors import Conflict, Invalid, NotFound
from kernel.secrets_box import SecretBox

RESERVED_IDS = {"app"}  # "app/…" source keys belong to app check-ins


@dataclass
class MoveResult:
    reader: Reader
    taps_moved: int
    delta: TotalsDelta | None


async def _checkpoint_id(session: AsyncSession, game: Game, code: str) -> int:
    cp = await repo.checkpoint_by_code(session, game.id, code)
    if cp is None:
        raise Invalid(
            f"no checkpoint '{code}' in game '{game.slug}'",
            fields=[{"field": "checkpoint", "message": f"no checkpoint '{code}'"}],
        )
    return cp.id


async def locked_reader(session: AsyncSession, game: Game, reader_id: str) -> Reader:
    reader = await repo.lock_reader(session, reader_id)
    if reader is None or reader.game_id != game.id:
        raise NotFound(f"no reader '{reader_id}' in game '{game.slug}'")
    return reader


async def create_reader(
    session: AsyncSession,
    game: Game,
    reader_id: str,
    checkpoint_code: str,
    *,
    box: SecretBox,
    actor: str,
) -> tuple[Reader, str]:
    """A new reader at a checkpoint from the start; returns it and its secret (shown once)."""
    if reader_id.lower() in RESERVED_IDS:
        raise Invalid(
            f"'{reader_id}' cannot be a reader id",
            fields=[{"field": "id", "message": "is reserved"}],
        )
    checkpoint_id = await _checkpoint_id(session, game, checkpoint_code)
    owner = await repo.reader_game(session, reader_id)
    if owner is not None and owner != game.id:
        # Reader ids are global; the endpoints act within one game only (moving a box
        # between games is a game-file load by an organiser of both, or the command line).
        raise Conflict(f"reader '{reader_id}' belongs to another game")
    if owner is not None:
        raise Conflict(f"reader '{reader_id}' already exists (move it instead)")
    secret = generate_secret()
    reader = Reader(
        id=reader_id,
        game_id=game.id,
        checkpoint_id=checkpoint_id,
        secret_encrypted=box.seal(secret),
        disabled=False,
        conflicts=0,
    )
    session.add(reader)
    try:
        await session.flush()
    except IntegrityError:  # created at the same moment by someone else
        raise Conflict(f"reader '{reader_id}' already exists (move it instead)") from None
    session.add(
        ReaderAssignment(
            game_id=game.id, reader_id=reader_id, checkpoint_id=checkpoint_id, valid_from=None
        )
    )
    audit.record(
        session,
        actor=actor,
        action="reader.create",
        game_id=game.id,
        reader=reader_id,
        checkpoint=checkpoint_code,
    )
    await session.flush()
    return reader, secret


async def rotate_secret(
    session: AsyncSession, game: Game, reader_id: str, *, box: SecretBox, actor: str, now: datetime
) -> str:
    """A new secret (shown once); the old one stops working at once."""
    reader = await locked_reader(session, game, reader_id)
    secret = generate_secret()
    reader.secret_encrypted = box.seal(secret)
    reader.secret_rotated_at = now
    audit.record(
        session, actor=actor, action="reader.rotate_secret", game_id=game.id, reader=reader_id
    )
    await session.flush()
    return secret


async def set_disabled(
    session: AsyncSession, game: Game, reader_id: str, disabled: bool, *, actor: str
) -> Reader:
    """A disabled reader's uploads and heartbeats are refused (401)."""
    reader = await locked_reader(session, game, reader_id)
    if reader.disabled != disabled:
        reader.disabled = disabled
        audit.record(
            session,
            actor=actor,
            action="reader.disable" if disabled else "reader.enable",
            game_id=game.id,
            reader=reader_id,
        )
        await session.flush()
    return reader


async def move_reader(
    session: AsyncSession,
    game: Game,
    reader_id: str,
    checkpoint_code: str,
    valid_from: datetime | None,
    *,
    actor: str,
    now: datetime,
    scoring: HolderScoring,
) -> MoveResult:
    """Places the reader at another checkpoint from ``valid_from`` (default: now)."""
    reader = await locked_reader(session, game, reader_id)
    checkpoint_id = await _checkpoint_id(session, game, checkpoint_code)
    when = valid_from or now
    if when > now + FUTURE_TOLERANCE:
        raise Invalid(
            "a move is recorded when it has happened, not ahead of time",
            fields=[{"field": "from", "message": "is in the future"}],
        )
    assignments = await repo.assignments_in_game(session, game.id, reader_id)
    same_time = next((a for a in assignments if a.valid_from == when), None)
    if same_time is not None:
        same_time.checkpoint_id = checkpoint_id
    else:
        session.add(
            ReaderAssignment(
                game_id=game.id, reader_id=reader_id, checkpoint_id=checkpoint_id, valid_from=when
            )
        )
    await session.flush()
    assignments = await repo.assignments_in_game(session, game.id, reader_id)
    reader.checkpoint_id = assignments[-1].checkpoint_id

    placements = [repo.Placement(a.valid_from, game.id, a.checkpoint_id) for a in assignments]
    rows = await repo.reader_taps_since(
        session, game.id, reader_id, sorted({a.checkpoint_id for a in assignments}), when
    )
    changes: list[dict[str, Any]] = []
    holders: set[int] = set()
    for row in rows:
        target = placement_at(placements, row.tapped_at).checkpoint_id
        if target != row.checkpoint_id:
            changes.append({"id": row.id, "checkpoint_id": target})
            holders.add(row.holder_id)
    await repo.set_tap_checkpoints(session, changes)
    delta = await scoring.rescore_holders(session, game.id, holders) if holders else None
    audit.record(
        session,
        actor=actor,
        action="reader.move",
        game_id=game.id,
        reader=reader_id,
        checkpoint=checkpoint_code,
        valid_from=when.isoformat(),
        taps_moved=len(changes),
    )
    await session.flush()
    return MoveResult(reader, len(changes), delta)


def _describe(
    reader: Reader, assignments: list[ReaderAssignment], codes: dict[int, str]
) -> dict[str, Any]:
    return {
        "id": reader.id,
        "checkpoint": codes.get(reader.checkpoint_id, ""),
        "disabled": reader.disabled,
        "created_at": reader.created_at,
        "secret_rotated_at": reader.secret_rotated_at,
        "assignments": [
            {"checkpoint": codes.get(a.checkpoint_id, ""), "valid_from": a.valid_from}
            for a in assignments
        ],
    }


async def describe(session: AsyncSession, game: Game, reader: Reader) -> dict[str, Any]:
    """The reader, its checkpoint and its placements in this game, earliest first."""
    assignments = await repo.assignments_in_game(session, game.id, reader.id)
    return _describe(reader, assignments, await _codes(session, game))


async def _codes(session: AsyncSession, game: Game) -> dict[int, str]:
    return await repo.checkpoint_codes(session, game.id)


async def reader_of_game(session: AsyncSession, game: Game, reader_id: str) -> Reader:
    reader = await repo.reader_in_game(session, game.id, reader_id)
    if reader is None:
        raise NotFound(f"no reader '{reader_id}' in game '{game.slug}'")
    return reader


async def list_readers(session: AsyncSession, game: Game) -> list[dict[str, Any]]:
    codes = await _codes(session, game)
    by_reader: dict[str, list[ReaderAssignment]] = {}
    for a in await repo.assignments_in_game(session, game.id, None):
        by_reader.setdefault(a.reader_id, []).append(a)
    return [
        _describe(reader, by_reader.get(reader.id, []), codes)
        for reader, _, _ in await repo.readers_of_game(session, game.id)
    ]

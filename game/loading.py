"""Applies a validated game definition file: an idempotent upsert keyed by codes.

Loading the same file twice changes nothing; an edited file applies exactly the
differences and reports them. Entries missing from the file are kept (taps may refer to
them) and reported. The caller owns the transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkpoints.models import Reader, ReaderAssignment
from game import repository as repo
from game.definition import DefinitionError, GameFile
from game.models import Campaign, Checkpoint, Game, Team
from people.deprivation import derive
from people.models import Card, Holder, TeamMembership
from people.nicknames import nickname_key
from people.public_names import pick_name
from people.repository import nickname_keys, public_names
from people.schemas import normalise_gender
from people.service import attach_player
from taptrail import audit
from taptrail.db import utcnow
from taptrail.secrets_box import SecretBox

SCORING_GAME_FIELDS = {
    "timezone",
    "starts_at",
    "ends_at",
    "journey_window_minutes",
    "points_per_leg",
    "max_speed_kmh",
    "max_points_per_day",
}
SCORING_CHECKPOINT_FIELDS = {"lat", "lon", "tags", "active_from", "active_to"}


# A load that adds at least this many cards refreshes the planner's statistics.
BULK_CARDS = 500


@dataclass
class LoadResult:
    slug: str
    game_id: int = 0
    created: bool = False
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    generated_secrets: dict[str, str] = field(default_factory=dict)
    rescore_needed: bool = False
    # Holders whose scoring inputs (team, age band) changed; a full re-score covers them too.
    holders_to_rescore: set[int] = field(default_factory=set)
    cards_added: int = 0


def _fmt(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return repr(value)


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, float) or isinstance(new, float):
        return old is not None and new is not None and abs(float(old) - float(new)) < 1e-9
    if isinstance(old, list) or isinstance(new, list):
        return sorted(old or []) == sorted(new or [])
    return bool(old == new)


# Reported as changed without their values: change reports land in the audit log and on
# screens, where erasure cannot reach them.
PERSONAL_FIELDS = frozenset(
    {
        "nickname",
        "nickname_key",
        "public_name",
        "email",
        "gender",
        "lsoa_code",
        "imd_decile",
        "imd_nation",
    }
)


def _update(
    obj: Any,
    values: dict[str, Any],
    label: str,
    result: LoadResult,
    *,
    personal: frozenset[str] = frozenset(),
) -> set[str]:
    changed: set[str] = set()
    for name, new in values.items():
        old = getattr(obj, name)
        if not _same(old, new):
            setattr(obj, name, new)
            changed.add(name)
            if name in personal:
                if name != "nickname_key":
                    result.changes.append(f"{label}: {name} changed")
            else:
                result.changes.append(f"{label}: {name} {_fmt(old)} → {_fmt(new)}")
    return changed


async def apply_definition(
    session: AsyncSession, gf: GameFile, *, box: SecretBox, actor: str
) -> LoadResult:
    result = LoadResult(slug=gf.game.slug)
    now = utcnow()
    game = await _upsert_game(session, gf, result)
    teams = await _upsert_teams(session, game, gf, result)
    checkpoints = await _upsert_checkpoints(session, game, gf, result)
    await _upsert_readers(session, game, gf, checkpoints, box, result, now)
    await _upsert_campaigns(session, game, gf, result)
    await _upsert_cards_and_players(session, game, gf, teams, result, now)
    if result.cards_added >= BULK_CARDS:
        # Uploads look cards up by UID with one array parameter; with statistics from
        # before the load the planner scans the game's cards and compares every UID with
        # every one of the batch's (80 ms per 500-tap upload with 5,000 cards, 2.5 ms
        # after ANALYZE). Autovacuum would catch up within minutes; a game that starts
        # right after its load cannot wait for it.
        await repo.refresh_statistics(session)
    if result.changes:
        audit.record(
            session,
            actor=actor,
            action="game.load",
            game_id=game.id,
            changes=result.changes[:500],
            change_count=len(result.changes),
        )
    result.game_id = game.id
    return result


async def _upsert_game(session: AsyncSession, gf: GameFile, result: LoadResult) -> Game:
    d = gf.game
    values: dict[str, Any] = {
        "name": d.name,
        "timezone": d.timezone,
        "starts_at": d.starts_at,
        "ends_at": d.ends_at,
        **d.rules.model_dump(),
    }
    game = await repo.game_by_slug(session, d.slug)
    if game is None:
        game = Game(slug=d.slug, **values)
        session.add(game)
        await session.flush()
        result.created = True
        result.changes.append(f"game {d.slug}: created")
        return game
    changed = _update(game, values, f"game {d.slug}", result)
    if changed & SCORING_GAME_FIELDS:
        result.rescore_needed = True
    return game


async def _upsert_teams(
    session: AsyncSession, game: Game, gf: GameFile, result: LoadResult
) -> dict[str, Team]:
    existing = {t.code: t for t in await repo.teams_of(session, game.id)}
    for d in gf.teams:
        team = existing.get(d.code)
        if team is None:
            team = Team(game_id=game.id, code=d.code, name=d.name, kind=d.kind)
            session.add(team)
            existing[d.code] = team
            result.changes.append(f"team {d.code}: added")
        else:
            _update(team, {"name": d.name, "kind": d.kind}, f"team {d.code}", result)
    _note_missing(existing, {d.code for d in gf.teams}, "team", result)
    await session.flush()
    return existing


async def _upsert_checkpoints(
    session: AsyncSession, game: Game, gf: GameFile, result: LoadResult
) -> dict[str, Checkpoint]:
    existing = {c.code: c for c in await repo.checkpoints_of(session, game.id)}
    for d in gf.checkpoints:
        values = d.model_dump(exclude={"code"})
        cp = existing.get(d.code)
        if cp is None:
            cp = Checkpoint(game_id=game.id, code=d.code, **values)
            session.add(cp)
            existing[d.code] = cp
            result.changes.append(f"checkpoint {d.code}: added")
        elif _update(cp, values, f"checkpoint {d.code}", result) & SCORING_CHECKPOINT_FIELDS:
            result.rescore_needed = True
    _note_missing(existing, {d.code for d in gf.checkpoints}, "checkpoint", result)
    await session.flush()
    return existing


async def _upsert_readers(
    session: AsyncSession,
    game: Game,
    gf: GameFile,
    checkpoints: dict[str, Checkpoint],
    box: SecretBox,
    result: LoadResult,
    now: datetime,
) -> None:
    existing = await repo.readers_by_id(session, [d.id for d in gf.readers])
    for d in gf.readers:
        cp = checkpoints[d.checkpoint]
        reader = existing.get(d.id)
        if reader is None:
            secret = d.secret or secrets.token_urlsafe(32)
            if d.secret is None:
                result.generated_secrets[d.id] = secret
            reader = Reader(
                id=d.id, game_id=game.id, checkpoint_id=cp.id, secret_encrypted=box.seal(secret)
            )
            session.add(reader)
            await session.flush()
            session.add(
                ReaderAssignment(
                    game_id=game.id, reader_id=d.id, checkpoint_id=cp.id, valid_from=None
                )
            )
            result.changes.append(f"reader {d.id}: added at {d.checkpoint}")
            continue
        if reader.game_id != game.id or reader.checkpoint_id != cp.id:
            # A box moved (to another checkpoint or town) from now on; earlier taps stay put.
            reader.game_id = game.id
            reader.checkpoint_id = cp.id
            session.add(
                ReaderAssignment(
                    game_id=game.id, reader_id=d.id, checkpoint_id=cp.id, valid_from=now
                )
            )
            result.changes.append(f"reader {d.id}: moved to {d.checkpoint} from {now.isoformat()}")
        if d.secret is not None and box.open(reader.secret_encrypted) != d.secret:
            reader.secret_encrypted = box.seal(d.secret)
            reader.secret_rotated_at = now
            result.changes.append(f"reader {d.id}: secret replaced")
    await session.flush()


async def _upsert_campaigns(
    session: AsyncSession, game: Game, gf: GameFile, result: LoadResult
) -> None:
    existing = {c.code: c for c in await repo.campaigns_of(session, game.id)}
    for d in gf.campaigns:
        values = {
            "name": d.name,
            "multiplier": d.multiplier,
            "starts_at": d.starts_at,
            "ends_at": d.ends_at,
            "checkpoint_tags": d.checkpoint_tags,
            "checkpoint_codes": sorted(d.checkpoints),
            "age_bands": d.age_bands,
        }
        camp = existing.get(d.code)
        if camp is None:
            session.add(Campaign(game_id=game.id, code=d.code, **values))
            result.changes.append(f"campaign {d.code}: added")
            result.rescore_needed = True
        elif _update(camp, values, f"campaign {d.code}", result) - {"name"}:
            result.rescore_needed = True
    _note_missing(existing, {d.code for d in gf.campaigns}, "campaign", result)
    await session.flush()


async def _upsert_cards_and_players(
    session: AsyncSession,
    game: Game,
    gf: GameFile,
    teams: dict[str, Team],
    result: LoadResult,
    now: datetime,
) -> None:
    cards = {c.number: c for c in await repo.cards_of(session, game.id)}
    players = {p.holder_id: p for p in await repo.players_of(session, game.id)}
    memberships: dict[int, list[TeamMembership]] = {}
    for m in await repo.memberships_of(session, game.id):
        memberships.setdefault(m.holder_id, []).append(m)

    new_cards: list[tuple[Card, Holder]] = []
    for d in gf.cards:
        team_id = teams[d.team].id if d.team else None
        card = cards.get(d.number)
        if card is None:
            holder = Holder(game_id=game.id)
            card = Card(
                game_id=game.id,
                number=d.number,
                uid=d.uid,
                activation_code=d.activation_code,
                issued_team_id=team_id,
            )
            new_cards.append((card, holder))
            cards[d.number] = card
            continue
        changed = _update(
            card,
            {"uid": d.uid, "activation_code": d.activation_code, "issued_team_id": team_id},
            f"card {d.number}",
            result,
        )
        if "issued_team_id" in changed and card.holder_id not in players:
            # An unregistered card's points count for the team it was issued to.
            for m in memberships.get(card.holder_id, []):
                m.team_id = team_id
            result.holders_to_rescore.add(card.holder_id)
    if new_cards:
        result.cards_added = len(new_cards)
        session.add_all([h for _, h in new_cards])
        await session.flush()
        for card, holder in new_cards:
            card.holder_id = holder.id
            session.add(card)
            m = TeamMembership(
                game_id=game.id, holder_id=holder.id, team_id=card.issued_team_id, valid_from=None
            )
            session.add(m)
            memberships[holder.id] = [m]
        result.changes.append(f"cards: {len(new_cards)} added")
        await session.flush()
    _note_missing(cards, {d.number for d in gf.cards}, "card", result)

    _check_nicknames_free(gf, cards, await nickname_keys(session, game.id))
    made_up: set[str] | None = None  # the game's made-up names, read when first needed
    registered = 0
    for pd in gf.players:
        card = cards[pd.card]
        team_id = teams[pd.team].id if pd.team else None
        dep = await derive(session, pd.postcode)
        values = {
            "nickname": pd.nickname,
            "nickname_key": nickname_key(pd.nickname),
            "age_band": pd.age_band,
            "gender": normalise_gender(pd.gender),
            "public": pd.public,
            "show_nickname": pd.show_nickname_publicly,
            "email": pd.email,
            "lsoa_code": dep.lsoa_code,
            "imd_decile": dep.imd_decile,
            "imd_nation": dep.nation,
            "deprivation_status": dep.status,
        }
        player = players.get(card.holder_id)
        if player is None or (player.erased_at is None and player.public_name is None):
            if made_up is None:
                made_up = await public_names(session, game.id)
            values["public_name"] = pick_name(made_up)
        if player is None:
            # The same rule as a registration: earlier points move to the player's team.
            players[card.holder_id] = await attach_player(
                session, game.id, card.holder_id, team_id, **values
            )
            result.holders_to_rescore.add(card.holder_id)
            registered += 1
            continue
        if player.erased_at is not None:
            continue
        changed = _update(
            player, values, f"player on card {pd.card}", result, personal=PERSONAL_FIELDS
        )
        if "age_band" in changed:
            result.holders_to_rescore.add(card.holder_id)
        if player.team_id != team_id:
            result.changes.append(f"player on card {pd.card}: team changed from now on")
            player.team_id = team_id
            session.add(
                TeamMembership(
                    game_id=game.id, holder_id=card.holder_id, team_id=team_id, valid_from=now
                )
            )
            result.holders_to_rescore.add(card.holder_id)
    if registered:
        result.changes.append(f"players: {registered} registered")
    await session.flush()


def _check_nicknames_free(gf: GameFile, cards: dict[str, Card], keys: dict[str, int]) -> None:
    """The file's nicknames may not be (look-alikes of) those of players not in the file,
    such as app registrations; among themselves the file was checked when parsed."""
    file_holders = {cards[pd.card].holder_id for pd in gf.players}
    errors = [
        f"players[{i}].nickname: '{pd.nickname}' is (or looks like) the nickname of a "
        "player registered in this game outside the file"
        for i, pd in enumerate(gf.players)
        if keys.get(nickname_key(pd.nickname), cards[pd.card].holder_id) not in file_holders
    ]
    if errors:
        raise DefinitionError(errors)


def _note_missing(
    existing: dict[str, Any], wanted: set[str], kind: str, result: LoadResult
) -> None:
    missing = sorted(set(existing) - wanted)
    if missing:
        shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
        result.notes.append(f"{len(missing)} {kind}(s) not in the file were kept: {shown}")

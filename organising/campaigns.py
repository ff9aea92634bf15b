"""Double-points campaigns managed through the API: create, change, end, list.

Every change that can alter points re-scores the game (``rescore_game``) in the caller's
transaction and leaves an audit record of who changed what and how many points moved.
Campaigns can also come from the game definition file (``organising/loading.py``): loading a file
again sets the campaigns it lists back to the file's values (and re-scores).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from game.models import Campaign, Game
from game.schemas import CampaignIn, CampaignOut, CampaignPatch, RescoreOut
from kernel import audit
from kernel.errors import Conflict, Invalid, NotFound
from organising import admin_repository as repo
from organising import repository as game_repo
from scoring.rescore import RescoreReport, rescore_game

# Changing these re-scores the game; the name does not.
SCORING_FIELDS = (
    "multiplier",
    "starts_at",
    "ends_at",
    "checkpoint_tags",
    "checkpoint_codes",
    "age_bands",
)


@dataclass
class CampaignChange:
    campaign: Campaign
    changes: list[str]
    rescore: RescoreReport | None


def _fmt(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return repr(value)


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, list) or isinstance(new, list):
        return sorted(old or []) == sorted(new or [])
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return Decimal(old) == Decimal(new)
    return bool(old == new)


async def _by_code(session: AsyncSession, game: Game, code: str) -> Campaign:
    camp = await repo.campaign_by_code(session, game.id, code)
    if camp is None:
        raise NotFound(f"no campaign '{code}' in game '{game.slug}'")
    return camp


async def _check_checkpoints(session: AsyncSession, game: Game, codes: Sequence[str]) -> None:
    known = {c.code for c in await game_repo.checkpoints_of(session, game.id)}
    missing = sorted(set(codes) - known)
    if missing:
        raise Invalid(
            f"no checkpoint(s) {', '.join(missing)} in game '{game.slug}'",
            fields=[{"field": "checkpoints", "message": f"no checkpoint '{c}'"} for c in missing],
        )


def _check_period(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise Invalid(
            "ends_at must be after starts_at",
            fields=[{"field": "ends_at", "message": "must be after starts_at"}],
        )


async def _apply(
    session: AsyncSession,
    game: Game,
    camp: Campaign,
    changes: list[str],
    *,
    actor: str,
    action: str,
    rescore: bool,
) -> CampaignChange:
    await session.flush()
    report = None
    if rescore:
        report = await rescore_game(
            session,
            game.id,
            actor=actor,
            reason=f"{action} {camp.code}",
            detail={"campaign": camp.code, "changes": changes},
        )
    audit.record(
        session,
        actor=actor,
        action=action,
        game_id=game.id,
        campaign=camp.code,
        changes=changes,
        outcomes_changed=report.changed if report else 0,
        points_before=report.points_before if report else None,
        points_after=report.points_after if report else None,
        points_moved=report.points_moved if report else 0,
    )
    await session.flush()
    return CampaignChange(camp, changes, report)


async def create_campaign(
    session: AsyncSession, game: Game, data: CampaignIn, *, actor: str
) -> CampaignChange:
    """Adds a campaign and re-scores the game. Conflict if the code is taken."""
    if await repo.campaign_by_code(session, game.id, data.code) is not None:
        raise Conflict(f"campaign '{data.code}' already exists in game '{game.slug}'")
    _check_period(data.starts_at, data.ends_at)
    await _check_checkpoints(session, game, data.checkpoints)
    camp = Campaign(
        game_id=game.id,
        code=data.code,
        name=data.name,
        multiplier=data.multiplier,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        checkpoint_tags=data.checkpoint_tags,
        checkpoint_codes=sorted(set(data.checkpoints)),
        age_bands=data.age_bands,
    )
    session.add(camp)
    changes = [
        f"campaign {data.code}: created (×{_fmt(data.multiplier)} from "
        f"{_fmt(data.starts_at)} to {_fmt(data.ends_at)})"
    ]
    return await _apply(
        session, game, camp, changes, actor=actor, action="campaign.create", rescore=True
    )


async def update_campaign(
    session: AsyncSession, game: Game, code: str, patch: CampaignPatch, *, actor: str
) -> CampaignChange:
    """Changes the given fields; re-scores the game if a scoring field changed."""
    camp = await _by_code(session, game, code)
    values: dict[str, Any] = patch.model_dump(exclude_unset=True)
    if "checkpoints" in values:
        values["checkpoint_codes"] = sorted(set(values.pop("checkpoints") or []))
    for name in ("multiplier", "starts_at", "ends_at", "checkpoint_tags", "age_bands", "name"):
        if name in values and values[name] is None:
            raise Invalid(
                f"{name} cannot be null", fields=[{"field": name, "message": "cannot be null"}]
            )
    if "checkpoint_codes" in values:
        await _check_checkpoints(session, game, values["checkpoint_codes"])
    _check_period(values.get("starts_at", camp.starts_at), values.get("ends_at", camp.ends_at))
    changes: list[str] = []
    changed: set[str] = set()
    for name, new in values.items():
        old = getattr(camp, name)
        if _same(old, new):
            continue
        setattr(camp, name, new)
        changed.add(name)
        label = "checkpoints" if name == "checkpoint_codes" else name
        changes.append(f"campaign {code}: {label} {_fmt(old)} → {_fmt(new)}")
    return await _apply(
        session,
        game,
        camp,
        changes,
        actor=actor,
        action="campaign.update",
        rescore=bool(changed & set(SCORING_FIELDS)),
    )


async def end_campaign(
    session: AsyncSession, game: Game, code: str, *, actor: str, now: datetime
) -> CampaignChange:
    """Ends a running campaign now (``ends_at = now``) and re-scores the game."""
    camp = await _by_code(session, game, code)
    if camp.ends_at <= now:
        raise Conflict(f"campaign '{code}' already ended at {_fmt(camp.ends_at)}")
    if camp.starts_at >= now:
        raise Conflict(
            f"campaign '{code}' has not started yet (it starts at {_fmt(camp.starts_at)}); "
            "change its dates instead"
        )
    old = camp.ends_at
    camp.ends_at = now
    changes = [f"campaign {code}: ended early, ends_at {_fmt(old)} → {_fmt(now)}"]
    return await _apply(
        session, game, camp, changes, actor=actor, action="campaign.end", rescore=True
    )


async def list_campaigns(session: AsyncSession, game: Game, now: datetime) -> list[CampaignOut]:
    """The game's campaigns (by start), each with the legs and points it applied to."""
    camps = await game_repo.campaigns_of(session, game.id)
    stats = await repo.campaign_stats(session, game.id)
    return [campaign_out(c, now, stats.get(c.id, (0, 0))) for c in camps]


def campaign_out(camp: Campaign, now: datetime, stats: tuple[int, int] = (0, 0)) -> CampaignOut:
    return CampaignOut(
        code=camp.code,
        name=camp.name,
        multiplier=float(camp.multiplier),
        starts_at=camp.starts_at,
        ends_at=camp.ends_at,
        checkpoint_tags=list(camp.checkpoint_tags or []),
        checkpoints=list(camp.checkpoint_codes or []),
        age_bands=list(camp.age_bands or []),
        active_now=camp.starts_at <= now < camp.ends_at,
        legs=stats[0],
        points=stats[1],
    )


def rescore_out(report: RescoreReport | None) -> RescoreOut | None:
    if report is None:
        return None
    return RescoreOut(
        taps=report.taps,
        outcomes_changed=report.changed,
        points_before=report.points_before,
        points_after=report.points_after,
        points_moved=report.points_moved,
        audit_id=report.audit_id,
    )

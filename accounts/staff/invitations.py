"""Invitations and password resets: links with a random token, stored as its SHA-256.

An organiser invites an e-mail address to a role in their scope (an organiser of one game
invites only to that game). The link works once, for ``INVITATION_LIFETIME``; until then the
organiser can copy it from the console (it is also kept sealed with the server key).
A reset link works once, for ``RESET_LIFETIME``; asking for one says the same whether or
not the address has an account. Services never commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.staff import repository as repo
from accounts.staff.models import StaffInvitation, StaffPasswordReset, StaffUser
from accounts.staff.service import (
    Scope,
    actor,
    create_user,
    field_error,
    normalise_email,
    resolve_scope,
    set_password,
    sha256,
)
from kernel import audit
from kernel.errors import Conflict, Forbidden, Invalid, NotFound
from kernel.logging import log
from kernel.secrets_box import SecretBox

INVITATION_LIFETIME = timedelta(days=7)
RESET_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class PendingInvitation:
    invitation: StaffInvitation
    token: str  # for the copyable link


async def invite(
    session: AsyncSession,
    by: StaffUser,
    *,
    email: str,
    role: str,
    game_slug: str | None,
    team_code: str | None,
    now: datetime,
    box: SecretBox,
) -> PendingInvitation:
    scope = Scope.of(by)
    if by.role != "organiser":
        raise Forbidden("only organisers invite staff")
    email = normalise_email(email)
    game_id, team_id = await resolve_scope(session, role, game_slug, team_code)
    if not scope.every_game and (game_id is None or game_id != scope.game_id):
        raise Invalid(
            "you can invite staff to your own game only",
            fields=field_error("game", "is not your game"),
        )
    if await repo.user_by_email(session, email) is not None:
        raise Conflict(
            "there is already an account with this e-mail address",
            fields=field_error("email", "already has an account"),
        )
    token = secrets.token_urlsafe(32)
    invitation = StaffInvitation(
        token_hash=sha256(token),
        sealed_token=box.seal(token),
        email=email,
        role=role,
        game_id=game_id,
        team_id=team_id,
        invited_by=by.id,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    session.add(invitation)
    await session.flush()
    audit.record(
        session, actor=actor(by), action="staff.invite", game_id=game_id, invitation=invitation.id
    )
    return PendingInvitation(invitation, token)


async def pending(
    session: AsyncSession, by: StaffUser, now: datetime, box: SecretBox
) -> list[PendingInvitation]:
    scope = Scope.of(by)
    rows = await repo.pending_invitations(session, None if scope.every_game else scope.game_id, now)
    return [PendingInvitation(row, box.open(row.sealed_token)) for row in rows]


async def cancel(session: AsyncSession, by: StaffUser, invitation_id: int) -> None:
    row = await repo.invitation_by_id(session, invitation_id)
    if row is None or row.accepted_at is not None or not Scope.of(by).covers_game(row.game_id):
        raise NotFound("there is no such invitation")
    await repo.delete_invitation(session, row.id)
    audit.record(
        session,
        actor=actor(by),
        action="staff.invite_cancel",
        game_id=row.game_id,
        invitation=row.id,
    )


async def open_invitation(session: AsyncSession, token: str, now: datetime) -> StaffInvitation:
    row = await repo.invitation_by_hash(session, sha256(token))
    if row is None or row.accepted_at is not None or row.expires_at <= now:
        raise NotFound(
            "this invitation link is not valid: it may have been used or have expired "
            "(ask the organiser for a new one)"
        )
    return row


async def accept(session: AsyncSession, token: str, password: str, now: datetime) -> StaffUser:
    row = await open_invitation(session, token, now)
    user = await create_user(
        session,
        email=row.email,
        password=password,
        role=row.role,
        game_id=row.game_id,
        team_id=row.team_id,
        now=now,
    )
    row.accepted_at = now
    audit.record(
        session,
        actor=actor(user),
        action="staff.invite_accept",
        game_id=row.game_id,
        invitation=row.id,
    )
    return user


# ---------------------------------------------------------------- password resets


async def start_reset(session: AsyncSession, user: StaffUser, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        StaffPasswordReset(
            token_hash=sha256(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + RESET_LIFETIME,
        )
    )
    await session.flush()
    log.info("staff.reset_started", user_id=user.id)
    return token


async def request_reset(
    session: AsyncSession, email: str, now: datetime
) -> tuple[StaffUser, str] | None:
    """A reset link for the account with this e-mail, or None (there is none: the caller
    answers the same either way)."""
    key = normalise_email(email)
    user = await repo.user_by_email(session, key)
    if user is None:
        return None
    return user, await start_reset(session, user, now)


async def reset_link_for(
    session: AsyncSession, by: StaffUser, user_id: int, now: datetime
) -> tuple[StaffUser, str]:
    """An organiser makes a reset link for a staff member in their scope."""
    target = await repo.user_by_id(session, user_id)
    scope = Scope.of(by)
    if (
        by.role != "organiser"
        or target is None
        or not (scope.every_game or target.game_id == scope.game_id)
    ):
        raise NotFound("there is no such staff member")
    token = await start_reset(session, target, now)
    audit.record(session, actor=actor(by), action="staff.reset_link", game_id=target.game_id)
    return target, token


async def open_reset(session: AsyncSession, token: str, now: datetime) -> StaffPasswordReset:
    row = await repo.reset_by_hash(session, sha256(token))
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise NotFound(
            "this password reset link is not valid: it may have been used or have expired "
            "(ask for a new one)"
        )
    return row


async def reset(session: AsyncSession, token: str, password: str, now: datetime) -> StaffUser:
    row = await open_reset(session, token, now)
    user = await repo.user_by_id(session, row.user_id)
    if user is None:
        raise NotFound("this password reset link is not valid")
    await set_password(session, user, password, now)  # also ends every session
    audit.record(session, actor=actor(user), action="staff.password_reset", game_id=user.game_id)
    return user

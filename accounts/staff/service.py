"""Staff accounts: creating them, signing in, console sessions, TOTP and console tokens.

Services never commit: the caller (an endpoint or a command) owns the transaction. Times
come from the caller (``now``: the app clock), so timeouts can be tested.

Sessions: a random 32-byte id goes to the browser; only its SHA-256 is stored. A session
ends after ``idle`` without a request and ``absolute`` after sign-in, whatever; signing in
always makes a new session (the id rotates), and after a right password an organiser with
TOTP gets a session at stage ``code`` that opens nothing but the code step.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.staff import passwords, throttle, totp
from accounts.staff import repository as repo
from accounts.staff.models import STAFF_ROLES, StaffSession, StaffUser
from accounts.tokens import create_token
from kernel import audit
from kernel.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from kernel.logging import log
from kernel.secrets_box import SecretBox
from kernel.tokens import hash_token

SIGNED_IN = "signed_in"
CODE = "code"
TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most once a minute
ROLE_NAMES = {"organiser": "Organiser", "team_manager": "Team manager", "evaluator": "Evaluator"}


class WrongCredentials(Unauthorized):
    pass


def field_error(name: str, message: str) -> list[dict[str, Any]]:
    return [{"field": name, "message": message}]


def normalise_email(email: str) -> str:
    value = email.strip().casefold()
    local, at, domain = value.partition("@")
    if (
        not at
        or not local
        or "." not in domain
        or len(value) > 254
        or any(c.isspace() for c in value)
    ):
        raise Invalid(
            "enter an e-mail address like name@example.org",
            fields=field_error("email", "is not an e-mail address"),
        )
    return value


def check_password(password: str, *, email: str, field: str = "password") -> None:
    why = passwords.problem(password, email=email)
    if why is not None:
        raise Invalid(f"the password {why}", fields=field_error(field, why))


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def actor(user: StaffUser) -> str:
    return f"staff:{user.id}:{user.role}"


# ---------------------------------------------------------------- scope


@dataclass(frozen=True, slots=True)
class Scope:
    """What an account may see: a role in one game, or organiser of every game."""

    role: str
    game_id: int | None
    team_id: int | None

    @classmethod
    def of(cls, user: StaffUser) -> Scope:
        return cls(user.role, user.game_id, user.team_id)

    @property
    def every_game(self) -> bool:
        return self.role == "organiser" and self.game_id is None

    def covers_game(self, game_id: int | None) -> bool:
        return self.every_game or (game_id is not None and game_id == self.game_id)


async def resolve_scope(
    session: AsyncSession, role: str, game_slug: str | None, team_code: str | None
) -> tuple[int | None, int | None]:
    """(game_id, team_id) for a role named with slugs and codes; Invalid names the field."""
    if role not in STAFF_ROLES:
        raise Invalid(
            f"'{role}' is not a staff role: organiser, team_manager or evaluator",
            fields=field_error("role", "is not a staff role"),
        )
    game_id = team_id = None
    if game_slug:
        game = await repo.game_by_slug(session, game_slug)
        if game is None:
            raise Invalid(f"no game '{game_slug}'", fields=field_error("game", "no such game"))
        game_id = game.id
    if role in ("team_manager", "evaluator") and game_id is None:
        who = "an evaluator" if role == "evaluator" else "a team manager"
        raise Invalid(f"{who} needs a game", fields=field_error("game", "is needed"))
    if role == "team_manager":
        assert game_id is not None
        if not team_code:
            raise Invalid("a team manager needs a team", fields=field_error("team", "is needed"))
        team = await repo.team_in_game(session, game_id, team_code)
        if team is None:
            raise Invalid(
                f"no team '{team_code}' in {game_slug}", fields=field_error("team", "no such team")
            )
        team_id = team.id
    elif team_code:
        raise Invalid(
            "only a team manager has a team", fields=field_error("team", "only for team managers")
        )
    return game_id, team_id


# ---------------------------------------------------------------- accounts


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    role: str,
    game_id: int | None,
    team_id: int | None,
    now: datetime,
) -> StaffUser:
    email = normalise_email(email)
    check_password(password, email=email)
    if await repo.user_by_email(session, email) is not None:
        raise Conflict(
            "there is already an account with this e-mail address",
            fields=field_error("email", "already has an account"),
        )
    user = StaffUser(
        email=email,
        password_hash=passwords.hash_password(password),
        role=role,
        game_id=game_id,
        team_id=team_id,
        created_at=now,
        password_changed_at=now,
    )
    session.add(user)
    await session.flush()
    log.info("staff.user_created", user_id=user.id, role=role, game_id=game_id)
    return user


async def set_password(
    session: AsyncSession, user: StaffUser, password: str, now: datetime
) -> None:
    """A new password: every session of the account ends (the caller may start a new one)."""
    check_password(password, email=user.email)
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = now
    await repo.delete_sessions_of(session, user.id)
    await repo.delete_resets_of(session, user.id)
    await session.flush()


async def change_password(
    session: AsyncSession, user: StaffUser, current: str, new: str, now: datetime
) -> None:
    if not passwords.verify(user.password_hash, current):
        raise Invalid(
            "the current password is not right",
            fields=field_error("current_password", "is not right"),
        )
    if new == current:
        raise Invalid(
            "the new password is the same as the current one",
            fields=field_error("new_password", "is the same as the current one"),
        )
    check_password(new, email=user.email, field="new_password")
    await set_password(session, user, new, now)
    audit.record(session, actor=actor(user), action="staff.password_change", game_id=user.game_id)


async def remove_user(session: AsyncSession, by: StaffUser, user_id: int) -> StaffUser:
    """An organiser removes an account in their scope (its sessions and tokens go with it)."""
    scope = Scope.of(by)
    target = await repo.user_by_id(session, user_id)
    if target is None or not (scope.every_game or target.game_id == scope.game_id):
        raise NotFound("there is no such staff member")
    if target.id == by.id:
        raise Conflict("you cannot remove your own account")
    if target.role == "organiser" and target.game_id is None and not scope.every_game:
        raise Forbidden("only an organiser of every game can remove one")
    await repo.delete_user(session, target.id)
    audit.record(
        session, actor=actor(by), action="staff.remove", game_id=target.game_id, user=target.id
    )
    return target


# ---------------------------------------------------------------- sessions


@dataclass(frozen=True, slots=True)
class Timeouts:
    idle: timedelta
    absolute: timedelta


async def start_session(
    session: AsyncSession, user: StaffUser, now: datetime, *, stage: str = SIGNED_IN
) -> tuple[str, StaffSession]:
    """A new session; returns the id for the cookie (shown only here) and its row."""
    raw = secrets.token_urlsafe(32)
    row = StaffSession(
        id_hash=sha256(raw),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        stage=stage,
        created_at=now,
        last_seen_at=now,
    )
    session.add(row)
    await session.flush()
    return raw, row


async def find_session(
    session: AsyncSession, raw: str, now: datetime, limits: Timeouts
) -> tuple[StaffSession, StaffUser] | None:
    """The live session with this id and its account; an expired one is deleted (the
    caller commits). Its last use is recorded at most once a minute."""
    row = await repo.session_by_hash(session, sha256(raw))
    if row is None:
        return None
    if now - row.last_seen_at >= limits.idle or now - row.created_at >= limits.absolute:
        await repo.delete_session(session, row.id)
        return None
    user = await repo.user_by_id(session, row.user_id)
    if user is None:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        await repo.touch_session(session, row.id, now)
        row.last_seen_at = now
    return row, user


async def end_session(session: AsyncSession, row: StaffSession) -> None:
    await repo.delete_session(session, row.id)


async def end_every_session(session: AsyncSession, user: StaffUser) -> int:
    count = await repo.delete_sessions_of(session, user.id)
    audit.record(
        session,
        actor=actor(user),
        action="staff.sign_out_everywhere",
        game_id=user.game_id,
        sessions=count,
    )
    return count


async def sign_in(
    session: AsyncSession, email: str, password: str, *, client: str, now: datetime
) -> StaffUser:
    """The account for this e-mail and password, under the throttle. A failure is recorded
    in the session: the caller commits it even though this raises."""
    key = email.strip().casefold()
    await throttle.check(session, key, client, now)
    user = await repo.user_by_email(session, key)
    if not passwords.verify(user.password_hash if user else None, password) or user is None:
        throttle.failed(session, key, client, now)
        log.info("staff.sign_in_failed", known=user is not None)
        raise WrongCredentials("the e-mail address or the password is not right")
    await throttle.succeeded(session, key, client)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    log.info("staff.signed_in", user_id=user.id)
    return user


# ---------------------------------------------------------------- TOTP


def totp_enabled(user: StaffUser) -> bool:
    return user.totp_secret is not None


def check_code(user: StaffUser, code: str, now: datetime, box: SecretBox) -> bool:
    """Whether ``code`` is the account's current TOTP code (each code works once)."""
    if user.totp_secret is None:
        return False
    step = totp.verify(box.open(user.totp_secret), code, now, after_step=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True


def begin_totp(user: StaffUser, box: SecretBox) -> str:
    """A new secret waiting for its first code (only organisers may use TOTP)."""
    if user.role != "organiser":
        raise Forbidden("two-step sign-in is for organisers")
    secret = totp.new_secret()
    user.totp_pending = box.seal(secret)
    return secret


def pending_totp(user: StaffUser, box: SecretBox) -> str | None:
    return box.open(user.totp_pending) if user.totp_pending else None


def enable_totp(
    session: AsyncSession, user: StaffUser, code: str, now: datetime, box: SecretBox
) -> None:
    secret = pending_totp(user, box)
    if secret is None:
        raise Conflict("start setting up two-step sign-in first")
    step = totp.verify(secret, code, now)
    if step is None:
        raise Invalid(
            "that is not the code your app shows now", fields=field_error("code", "is not right")
        )
    user.totp_secret = user.totp_pending
    user.totp_pending = None
    user.totp_last_step = step
    audit.record(session, actor=actor(user), action="staff.totp_on", game_id=user.game_id)


def disable_totp(session: AsyncSession, user: StaffUser, password: str) -> None:
    if not passwords.verify(user.password_hash, password):
        raise Invalid("the password is not right", fields=field_error("password", "is not right"))
    user.totp_secret = user.totp_pending = None
    user.totp_last_step = None
    audit.record(session, actor=actor(user), action="staff.totp_off", game_id=user.game_id)


# ---------------------------------------------------------------- console tokens


async def create_console_token(session: AsyncSession, user: StaffUser, label: str) -> str:
    """A bearer token with the account's role and scope, linked to the account."""
    label = label.strip()
    if not label or len(label) > 100:
        raise Invalid(
            "give the token a name of 1 to 100 characters", fields=field_error("label", "is needed")
        )
    value = await create_token(
        session, role=user.role, game_id=user.game_id, team_id=user.team_id, label=label
    )
    await repo.link_token(session, hash_token(value), user.id)
    audit.record(session, actor=actor(user), action="token.create", game_id=user.game_id)
    return value


async def revoke_console_token(
    session: AsyncSession, user: StaffUser, token_id: int, now: datetime
) -> None:
    if not await repo.revoke_token(session, token_id, user.id, now):
        raise NotFound("you have no such token (or it is already revoked)")
    audit.record(
        session, actor=actor(user), action="token.revoke", game_id=user.game_id, token=token_id
    )

"""Family accounts (people/family_models.py): opening one, signing in, sessions, the players
an account holds, and deleting it.

- An adult opens an account with an e-mail address and a password; a player aged 13 or
  over on their own gets an account code (made up here) and a password, and a recovery
  code shown once, so no personal data beyond what signing in needs is asked. Children are
  never asked for an e-mail address.
- Wrong passwords are throttled per account and client address (accounts/staff/throttle.py).
- Registering a card for an account goes through ``people.register`` (the same
  activation limits, teams and public-name rules); the player token it makes is revoked at
  once, because the family site signs in with its own sessions.
- Removing a player from the account, or deleting the account, erases the player
  (``people.erase_player``): points stay with the team, anonymously.

Refusals are ``FamilyProblem``: a field and a reason from a closed set, which the site
words in the reader's language. Services never commit.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.staff import passwords, throttle
from game.holder_scoring import HolderScoring
from game.models import Game
from kernel import audit
from kernel.errors import TaptrailError
from people import family_repository as repo
from people import privacy, registration
from people import repository as people_repo
from people.family_models import FamilyAccount, FamilyMember, FamilySession
from people.models import Player
from people.schemas import RegistrationIn

Reason = Literal[
    "email_invalid",
    "email_taken",
    "password_short",
    "password_long",
    "password_common",
    "password_mismatch",
    "wrong_credentials",
    "wrong_recovery",
    "age_under_13",
]


class FamilyProblem(TaptrailError):
    """A refused account action: ``field`` and ``reason`` say what to tell the person."""

    status = 422

    def __init__(self, field: str, reason: Reason, status: int = 422) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.status = status


IDLE = timedelta(days=30)  # a phone stays signed in for a month of not being used
ABSOLUTE = timedelta(days=180)
TOUCH_EVERY = timedelta(minutes=5)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+$")
# Account and recovery codes: no letters that look alike (0/O, 1/I/L).
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _code(groups: int) -> str:
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(groups))


def normalise_code(text: str) -> str:
    """An account or recovery code as typed: case, spaces and hyphens do not matter."""
    bare = "".join(ch for ch in text.upper() if ch.isalnum())
    return "-".join(bare[i : i + 4] for i in range(0, len(bare), 4))


def _check_password(password: str, confirm: str, *, email: str = "") -> None:
    problem = passwords.problem(password, email=email)
    if problem is not None:
        reason: Reason = (
            "password_short"
            if len(password) < passwords.MIN_LENGTH
            else "password_long"
            if len(password) > passwords.MAX_LENGTH
            else "password_common"
        )
        raise FamilyProblem("password", reason)
    if password != confirm:
        raise FamilyProblem("confirm", "password_mismatch")


@dataclass
class NewAccount:
    account: FamilyAccount
    account_code: str | None  # shown once, for an account without an e-mail
    recovery_code: str | None  # shown once


async def create_account(
    session: AsyncSession,
    *,
    email: str | None,
    password: str,
    confirm: str,
    now: datetime,
) -> NewAccount:
    """An adult's account (``email``) or, without one, a 13-or-over player's account code."""
    if email is not None:
        email = email.strip().lower()
        if not _EMAIL.match(email) or len(email) > 254:
            raise FamilyProblem("email", "email_invalid")
        _check_password(password, confirm, email=email)
        if await repo.account_by_email(session, email) is not None:
            raise FamilyProblem("email", "email_taken", 409)
        account = FamilyAccount(
            email=email, password_hash=passwords.hash_password(password), created_at=now
        )
        code = recovery = None
    else:
        _check_password(password, confirm)
        code, recovery = _code(3), _code(4)
        account = FamilyAccount(
            account_code=code,
            password_hash=passwords.hash_password(password),
            recovery_hash=sha256(recovery),
            created_at=now,
        )
    session.add(account)
    try:
        await session.flush()
    except IntegrityError:
        raise FamilyProblem("email", "email_taken", 409) from None
    audit.record(
        session, actor="public", action="family.account_create", game_id=None, account_id=account.id
    )
    return NewAccount(account, code, recovery)


def _sign_in_name(name: str) -> tuple[str, bool]:
    """The stored form of what was typed to sign in, and whether it is an e-mail address."""
    name = name.strip()
    return (name.lower(), True) if "@" in name else (normalise_code(name), False)


async def _by_name(session: AsyncSession, name: str) -> FamilyAccount | None:
    key, is_email = _sign_in_name(name)
    if not key:
        return None
    return await (repo.account_by_email if is_email else repo.account_by_code)(session, key)


async def sign_in(
    session: AsyncSession, name: str, password: str, *, client: str, now: datetime
) -> FamilyAccount:
    """The account, if the password is right (``throttle.Throttled`` while slowed down);
    a wrong one is recorded (the caller commits it)."""
    key = "family:" + _sign_in_name(name)[0]
    await throttle.check(session, key, client, now)
    account = await _by_name(session, name)
    if not passwords.verify(account.password_hash if account else None, password):
        throttle.failed(session, key, client, now)
        raise FamilyProblem("password", "wrong_credentials", 401)
    assert account is not None
    await throttle.succeeded(session, key, client)
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    return account


async def recover(
    session: AsyncSession,
    code: str,
    recovery: str,
    password: str,
    confirm: str,
    *,
    client: str,
    now: datetime,
) -> tuple[FamilyAccount, str]:
    """A new password with the account code and its recovery code; a new recovery code
    replaces the used one (returned, to show once). Every session of the account ends."""
    key = "family-recovery:" + normalise_code(code)
    await throttle.check(session, key, client, now)
    account = await repo.account_by_code(session, normalise_code(code))
    expected = account.recovery_hash if account else None
    typed = sha256(normalise_code(recovery))
    if account is None or expected is None or not secrets.compare_digest(expected, typed):
        throttle.failed(session, key, client, now)
        raise FamilyProblem("recovery_code", "wrong_recovery", 401)
    _check_password(password, confirm)
    await throttle.succeeded(session, key, client)
    fresh = _code(4)
    account.password_hash = passwords.hash_password(password)
    account.recovery_hash = sha256(fresh)
    await repo.delete_sessions(session, account.id)
    audit.record(
        session, actor="public", action="family.recover", game_id=None, account_id=account.id
    )
    return account, fresh


# ------------------------------------------------------------------------------ sessions


async def start_session(
    session: AsyncSession, account: FamilyAccount, now: datetime
) -> tuple[str, FamilySession]:
    """A new session; returns the id for the cookie (shown only here) and its row."""
    raw = secrets.token_urlsafe(32)
    row = FamilySession(
        id_hash=sha256(raw),
        account_id=account.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
    )
    session.add(row)
    await session.flush()
    return raw, row


async def find_session(
    session: AsyncSession, raw: str, now: datetime
) -> tuple[FamilySession, FamilyAccount] | None:
    """The live session with this id and its account; an expired one is deleted."""
    row = await repo.session_by_hash(session, sha256(raw))
    if row is None:
        return None
    if now - row.last_seen_at >= IDLE or now - row.created_at >= ABSOLUTE:
        await repo.delete_session(session, row.id)
        return None
    account = await repo.account(session, row.account_id)
    if account is None:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        await repo.touch_session(session, row.id, now)
        row.last_seen_at = now
    return row, account


async def end_session(session: AsyncSession, row: FamilySession) -> None:
    await repo.delete_session(session, row.id)


# ------------------------------------------------------------------------------ players


async def players(session: AsyncSession, account: FamilyAccount) -> Sequence[Player]:
    return await repo.members(session, account.id)


async def player(session: AsyncSession, account: FamilyAccount, player_id: int) -> Player | None:
    """One of the account's players (None for anyone else's: the caller answers 404)."""
    return await repo.member(session, account.id, player_id)


async def register_card(
    session: AsyncSession,
    account: FamilyAccount,
    game: Game,
    form: RegistrationIn,
    *,
    client: str,
    now: datetime,
    scoring: HolderScoring,
) -> registration.Registration:
    """Registers a card (or, for 13 and over, a card-less app player) into the account."""
    done = await registration.register(session, game, form, client=client, now=now, scoring=scoring)
    await people_repo.revoke_player_tokens(session, done.player.id, now)
    session.add(FamilyMember(account_id=account.id, player_id=done.player.id, added_at=now))
    await session.flush()
    return done


async def remove_player(
    session: AsyncSession,
    account: FamilyAccount,
    target: Player,
    *,
    now: datetime,
    scoring: HolderScoring,
    elsewhere: privacy.PlayerDataEraser,
) -> privacy.Erasure:
    """Erases one of the account's players and takes them out of the account."""
    erasure = await privacy.erase_player(
        session,
        target.game_id,
        target.id,
        actor=f"family:{account.id}",
        now=now,
        scoring=scoring,
        elsewhere=elsewhere,
    )
    await repo.delete_member(session, target.id)
    return erasure


async def delete_account(
    session: AsyncSession,
    account: FamilyAccount,
    *,
    now: datetime,
    scoring: HolderScoring,
    elsewhere: privacy.PlayerDataEraser,
) -> list[privacy.Erasure]:
    """Erases every player of the account, then deletes the account and its sessions."""
    erasures = [
        await remove_player(session, account, p, now=now, scoring=scoring, elsewhere=elsewhere)
        for p in await players(session, account)
    ]
    account_id = account.id
    await repo.delete_account(session, account_id)
    audit.record(
        session,
        actor=f"family:{account_id}",
        action="family.account_delete",
        game_id=None,
        account_id=account_id,
        players_erased=len(erasures),
    )
    return erasures

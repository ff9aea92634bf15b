"""People: card registration, teams, players' own view, card replacement, erasure, retention.

Attribution rules (docs/scoring-rules.md, "Who gets the points"), kept by re-scoring the holders:
- registering a card makes its holder the player's holder and puts it in the player's team
  from the start, so the card's earlier points move to the player's team;
- a team change or a removal from a team adds a membership from now: earned points stay
  with the old team (people/membership.py);
- a replacement card joins the holder; the old card stops scoring from now; taps the new
  card made before it was linked move to the holder with it;
- erasure removes personal data but keeps the holder, its taps, memberships and totals.

Who may join which team, and who may register without a card (13 and over), is decided by
people/rules.py.

Services never commit; they return the ``TotalsDelta`` values the caller publishes after
its commit. Postcodes are normalised, looked up and dropped: never stored or logged.
"""

from __future__ import annotations

import hashlib
import importlib
import math
import secrets
import string
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.tokens import create_token
from game import join_codes
from game.holder_scoring import HolderScoring
from game.models import Game, Team
from game.totals import TotalsDelta
from geo import deprivation
from geo.postcodes import is_plausible_postcode, normalise_postcode
from kernel import audit
from kernel.errors import Conflict, Invalid, NotFound, TooMany
from kernel.logging import log
from names.nicknames import NicknameError, checked_nickname, hidden_name, nickname_key
from names.public_names import is_child, make_name
from people import activation
from people import repository as repo
from people.models import Card, Player
from people.rules import check_app_age, check_join_code, field_error, team_to_join
from people.schemas import (
    AdminTeamOut,
    CardOut,
    JourneyOut,
    MemberOut,
    MeOut,
    MeUpdateIn,
    PlayerAdminOut,
    RegistrationIn,
    TapOut,
    TeamOut,
    TeamPlayersOut,
    TeamStandingOut,
    TodayOut,
    TotalsOut,
)

# Wrong activation codes (or unknown card numbers) one client address may make in a day
# before progressive lockouts (people.activation): for one card, and over all cards.
CARD_CLIENT_FREE = 5
CLIENT_FREE = 20
# Wrong codes for one card from all addresses in a day that raise a warning in the log: the
# card is being guessed (it is never locked for everyone: see check_activation).
CARD_ALERT = 50
ATTEMPT_RETENTION = activation.MEMORY
# Registrations without a card (each makes a virtual card and a player) per client address.
APP_REGISTRATIONS = 10
APP_REGISTRATION_WINDOW = timedelta(hours=1)
RECENT_TAPS = 100
RECENT_JOURNEYS = 20


class WrongActivationCode(Invalid):
    """The card number and code do not match. The failed attempt was added to the session:
    the caller commits it (and nothing else) before answering, so rate limits see it."""


@dataclass
class Registration:
    player: Player
    card: Card
    team: Team | None
    token: str
    postcode_status: str
    deltas: list[TotalsDelta] = field(default_factory=list)


@dataclass
class CardChange:
    card: str
    retired: list[str]
    moved_taps: int
    deltas: list[TotalsDelta] = field(default_factory=list)


@dataclass
class Erasure:
    player_id: int
    erased_at: datetime
    tokens_revoked: int
    removed: list[str]
    deltas: list[TotalsDelta] = field(default_factory=list)


# ------------------------------------------------------------------------------ helpers


def client_key(host: str | None) -> str:
    """What the rate limits count by: a digest of the client address, not the address."""
    return hashlib.sha256(f"taptrail-client:{host or 'unknown'}".encode()).hexdigest()


def card_key(number: str) -> str:
    return "".join(number.split())[:32]


def public_name(player: Player) -> str | None:
    """How public boards show a player; None when the player must not appear on them.

    The one place the rule lives (every board, snapshot and live update goes through it):
    a hidden nickname shows as ``Player <id>``; a player under 16 (or of unknown age) shows
    by their made-up public name unless a parent chose to show the nickname; anyone else by
    their nickname.
    """
    if player.erased_at is not None or not player.public or player.nickname is None:
        return None
    if player.nickname_hidden:
        return hidden_name(player.id)
    if is_child(player.age_band) and not player.show_nickname:
        return player.public_name or hidden_name(player.id)
    return player.nickname


_invalid = field_error


def _nickname(text: str, age_band: str | None) -> str:
    try:
        return checked_nickname(text, age_band)
    except NicknameError as exc:
        raise _invalid("nickname", str(exc)) from None


async def new_public_name(session: AsyncSession, game_id: int) -> str:
    """A made-up public name no other player of the game has."""
    for attempt in range(40):
        name = make_name(digits=2 if attempt < 20 else 3)
        if not await repo.public_name_taken(session, game_id, name):
            return name
    raise Conflict("could not make up a public name: please try again")  # pragma: no cover


def _postcode(text: str | None) -> str | None:
    """The pcds form of a typed postcode, or None; never echoed back in an error."""
    if text is None or not text.strip():
        return None
    if not is_plausible_postcode(text):
        raise _invalid("postcode", "does not look like a UK postcode (for example BB11 3DF)")
    return normalise_postcode(text)


async def _ensure_nickname_free(
    session: AsyncSession, game_id: int, nickname: str, *, except_player: int | None = None
) -> str:
    key = nickname_key(nickname)
    if await repo.nickname_taken(session, game_id, key, except_player=except_player):
        raise Conflict("that nickname is taken in this game: please choose another")
    return key


async def check_activation(
    session: AsyncSession, game_id: int, number: str, code: str, *, client: str, now: datetime
) -> Card:
    """The card with this printed number and activation code, under the guessing limits.

    Wrong codes are counted per (card, client address) and per client address, with
    progressive lockouts (people.activation). There is deliberately no lockout per card
    for everyone: any such limit lets anyone lock a card's owner out by typing wrong codes
    for it. A card's failures from all addresses are counted only to log a warning
    (``activation.card_guessed``) when they reach CARD_ALERT in a day; guessing stays
    hopeless because each address is slowed down and a generated code has 60 bits.
    The client's attempts are serialised (``lock_client``), so parallel requests share
    one allowance.
    """
    key = card_key(number)
    await repo.lock_client(session, game_id, client)
    since = now - activation.MEMORY
    count, latest = await repo.failures_since(session, game_id, since, client, card_key=key)
    wait = activation.wait_seconds(count, latest, CARD_CLIENT_FREE, now)
    if wait:
        raise TooMany(
            "too many wrong activation codes for this card from this device: try again in "
            f"{_duration(wait)}",
            retry_after=wait,
        )
    count, latest = await repo.failures_since(session, game_id, since, client)
    wait = activation.wait_seconds(count, latest, CLIENT_FREE, now)
    if wait:
        raise TooMany(
            f"too many wrong activation codes from this device: try again in {_duration(wait)}",
            retry_after=wait,
        )
    card = await repo.card_by_number(session, game_id, key)
    if card is None or not activation.codes_match(code, card.activation_code):
        repo.add_failed_attempt(session, game_id, key, client, now)
        if await repo.card_failures_since(session, game_id, key, since) == CARD_ALERT - 1:
            log.warning("activation.card_guessed", game_id=game_id, card=key, failures=CARD_ALERT)
        raise WrongActivationCode(
            "the card number and activation code do not match",
            fields=[{"field": "activation_code", "message": "does not match the card number"}],
        )
    return card


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    minutes = -(-seconds // 60)
    return f"{minutes} minutes" if minutes < 120 else f"{-(-minutes // 60)} hours"


async def _limit_app_registrations(
    session: AsyncSession, game_id: int, *, client: str, now: datetime
) -> None:
    """At most APP_REGISTRATIONS registrations without a card per client address and
    window, counted in the database (so across server processes); records this one."""
    await repo.lock_client(session, game_id, client)
    since = now - APP_REGISTRATION_WINDOW
    count, oldest = await repo.app_registrations_since(session, game_id, client, since)
    if count >= APP_REGISTRATIONS and oldest is not None:
        minutes = int(APP_REGISTRATION_WINDOW.total_seconds() // 60)
        wait = math.ceil((oldest + APP_REGISTRATION_WINDOW - now).total_seconds())
        raise TooMany(
            f"too many registrations without a card from this address: at most "
            f"{APP_REGISTRATIONS} every {minutes} minutes; try again in {_duration(wait)}",
            retry_after=wait,
        )
    repo.add_app_registration(session, game_id, client, now)


async def new_virtual_card(
    session: AsyncSession, game_id: int, holder_id: int | None = None
) -> Card:
    """A phone app's card: random 20-hex UID, number "V" + 9 digits. Without ``holder_id``
    it gets a new holder (an app registration); with one, it joins that holder (a player's
    first app check-in)."""
    if holder_id is None:
        holder_id = (await repo.add_holder(session, game_id)).id
    for _ in range(20):
        uid = secrets.token_hex(10).upper()
        number = "V" + "".join(secrets.choice(string.digits) for _ in range(9))
        if not await repo.card_uid_taken(
            session, game_id, uid
        ) and not await repo.card_number_taken(session, game_id, number):
            break
    else:  # pragma: no cover - 20 collisions in a space of 10^9 numbers
        raise Conflict("could not make a virtual card: please try again")
    card = Card(
        game_id=game_id,
        number=number,
        uid=uid,
        activation_code=activation.new_code(),
        kind="virtual",
        holder_id=holder_id,
    )
    session.add(card)
    await session.flush()
    return card


# ------------------------------------------------------------------------------ registration


async def attach_player(
    session: AsyncSession, game_id: int, holder_id: int, team_id: int | None, **values: Any
) -> Player:
    """Registers the card holder as a player in ``team_id`` from the start.

    The holder's earlier memberships (the team its card was issued to) are replaced, so
    points earned before registration move to the player's team. The caller re-scores the
    holder (``rescore_holders``) afterwards.
    """
    player = Player(game_id=game_id, holder_id=holder_id, team_id=team_id, **values)
    session.add(player)
    await repo.reset_memberships(session, game_id, holder_id, team_id)
    await session.flush()
    return player


async def register(
    session: AsyncSession,
    game: Game,
    form: RegistrationIn,
    *,
    client: str,
    now: datetime,
    scoring: HolderScoring,
) -> Registration:
    nickname = _nickname(form.nickname, form.age_band)
    team = await team_to_join(session, game.id, form.team)
    postcode = _postcode(form.postcode)
    if form.card_number is not None and form.activation_code is not None:
        card = await check_activation(
            session, game.id, form.card_number, form.activation_code, client=client, now=now
        )
        if await repo.player_of_holder(session, game.id, card.holder_id) is not None:
            raise Conflict("this card is already registered")
        if card.valid_until is not None:
            raise Conflict("this card was replaced and no longer scores")
        if team is None and card.issued_team_id is not None:
            team = await repo.team(session, card.issued_team_id)
        check_join_code(team, form.join_code, issued_team_id=card.issued_team_id)
    else:
        check_app_age(form.age_band, confirmed_13_or_over=form.age_13_or_over)
        check_join_code(team, form.join_code)
        await _limit_app_registrations(session, game.id, client=client, now=now)
        card = await new_virtual_card(session, game.id)
    key = await _ensure_nickname_free(session, game.id, nickname)
    shown = await new_public_name(session, game.id)
    found = await deprivation.derive(session, postcode)
    del postcode  # from here on only the LSOA and decile exist
    await scoring.lock_holders(session, [card.holder_id])
    try:
        player = await attach_player(
            session,
            game.id,
            card.holder_id,
            team.id if team else None,
            nickname=nickname,
            nickname_key=key,
            public=form.public,
            public_name=shown,
            show_nickname=form.show_nickname_publicly,
            age_band=form.age_band,
            gender=form.gender,
            email=form.email,
            lsoa_code=found.lsoa_code,
            imd_decile=found.imd_decile,
            imd_nation=found.nation,
            deprivation_status=found.status,
            registered_at=now,
        )
    except IntegrityError:
        raise Conflict(
            "the card or nickname was registered a moment ago: please check and try again"
        ) from None
    delta = await scoring.rescore_holders(session, game.id, [card.holder_id])
    token = await create_token(session, role="player", game_id=game.id, player_id=player.id)
    audit.record(
        session,
        actor="public",
        action="player.register",
        game_id=game.id,
        player_id=player.id,
        card_kind=card.kind,
    )
    return Registration(player, card, team, token, found.status, [delta])


# ------------------------------------------------------------------------------ the player


async def active_player(session: AsyncSession, player_id: int) -> Player:
    player = await repo.player(session, player_id)
    if player is None or player.erased_at is not None:
        raise NotFound("this player no longer exists")
    return player


async def player_in_game(session: AsyncSession, game_id: int, player_id: int) -> Player:
    player = await repo.player(session, player_id)
    if player is None or player.game_id != game_id:
        raise NotFound(f"no player {player_id} in this game")
    return player


async def update_player(session: AsyncSession, player: Player, form: MeUpdateIn) -> bool:
    """The player's own changes; True when what public boards show may have changed."""
    board_changed = False
    if form.nickname is not None:
        nickname = _nickname(form.nickname, player.age_band)
        if nickname != player.nickname:
            player.nickname_key = await _ensure_nickname_free(
                session, player.game_id, nickname, except_player=player.id
            )
            player.nickname = nickname
            player.nickname_hidden = False
            player.nickname_reviewed_at = None  # back to the moderation queue
            board_changed = True
    if form.public is not None and form.public != player.public:
        player.public = form.public
        board_changed = True
    show = form.show_nickname_publicly
    if show is not None and show != player.show_nickname:
        if show and player.nickname is not None and form.nickname is None:
            # A nickname from before today's rules is checked again before it is shown.
            try:
                checked_nickname(player.nickname, player.age_band)
            except NicknameError as exc:
                raise _invalid("nickname", f"{exc} (to show it on public boards)") from None
        player.show_nickname = show
        board_changed = True
    if "email" in form.model_fields_set:
        player.email = form.email
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("that nickname is taken in this game: please choose another") from None
    return board_changed


async def set_nickname_hidden(
    session: AsyncSession, game_id: int, player_id: int, hidden: bool, *, actor: str
) -> Player:
    player = await player_in_game(session, game_id, player_id)
    if player.erased_at is not None:
        raise Conflict("this player's data was erased")
    if player.nickname_hidden != hidden:
        player.nickname_hidden = hidden
        audit.record(
            session,
            actor=actor,
            action="player.nickname_hidden" if hidden else "player.nickname_shown",
            game_id=game_id,
            player_id=player_id,
        )
    return player


# ------------------------------------------------------------------------------ cards


async def _attach_card(
    session: AsyncSession,
    game_id: int,
    holder_id: int,
    card: Card,
    *,
    now: datetime,
    scoring: HolderScoring,
) -> CardChange:
    if card.holder_id == holder_id:
        raise Conflict("this card already belongs to this player")
    if card.valid_until is not None:
        raise Conflict("this card was replaced and no longer scores")
    if await repo.player_of_holder(session, game_id, card.holder_id) is not None:
        raise Conflict("this card is already registered")
    previous = card.holder_id
    await scoring.lock_holders(session, [holder_id, previous])
    # The card's earlier taps leave the unregistered holder's totals, then score again under
    # the player (from scratch: their outcomes depend on the player's other taps).
    taps = await repo.scored_taps_of_card(session, game_id, card.id)
    out = TotalsDelta()
    for row in taps:
        if row.outcome is not None:
            out.add(game_id, previous, row, None)
    await scoring.apply_delta(session, out)
    await repo.move_card_taps(session, game_id, card.id, holder_id)
    card.holder_id = holder_id
    retired = await repo.retire_cards(session, game_id, holder_id, now, except_card=card.id)
    await session.flush()
    into = await scoring.rescore_holders(session, game_id, [holder_id, previous])
    return CardChange(card.number, retired, len(taps), [out, into])


async def link_card(
    session: AsyncSession,
    player: Player,
    number: str,
    code: str,
    *,
    client: str,
    now: datetime,
    actor: str,
    scoring: HolderScoring,
) -> CardChange:
    """A player links a new card (lost or replaced): it needs the new card's code."""
    card = await check_activation(session, player.game_id, number, code, client=client, now=now)
    change = await _attach_card(
        session, player.game_id, player.holder_id, card, now=now, scoring=scoring
    )
    audit.record(
        session,
        actor=actor,
        action="card.link",
        game_id=player.game_id,
        player_id=player.id,
        card=change.card,
        retired=change.retired,
    )
    return change


async def replace_card(
    session: AsyncSession,
    game_id: int,
    old_number: str,
    new_number: str,
    *,
    now: datetime,
    actor: str,
    scoring: HolderScoring,
) -> CardChange:
    """An organiser hands out a new card for a lost one; no activation code needed."""
    old = await repo.card_by_number(session, game_id, card_key(old_number))
    if old is None:
        raise NotFound(f"no card {old_number} in this game")
    if old.valid_until is not None:
        raise Conflict(f"card {old.number} was already replaced")
    player = await repo.player_of_holder(session, game_id, old.holder_id)
    if player is not None and player.erased_at is not None:
        raise Conflict("this card's player was erased")
    new = await repo.card_by_number(session, game_id, card_key(new_number))
    if new is None:
        raise NotFound(f"no card {new_number} in this game")
    change = await _attach_card(session, game_id, old.holder_id, new, now=now, scoring=scoring)
    audit.record(
        session,
        actor=actor,
        action="card.replace",
        game_id=game_id,
        player_id=player.id if player else None,
        old=old.number,
        card=change.card,
        retired=change.retired,
    )
    return change


# ------------------------------------------------------------------------------ erasure

ErasureHook = Callable[[AsyncSession, Player], Awaitable[int]]
# Other domains remove what they hold about a player by exposing, in one of these modules,
# ``async def erase_player_data(session, player) -> int`` (rows removed). It runs in the
# erasure's transaction, before the player's own fields are cleared.
ERASURE_HOOK_MODULES: tuple[str, ...] = ("evaluation.erasure",)


def erasure_hooks() -> dict[str, ErasureHook]:
    hooks: dict[str, ErasureHook] = {}
    for name in ERASURE_HOOK_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        hook = getattr(module, "erase_player_data", None)
        if hook is not None:
            hooks[name] = hook
    return hooks


async def erase_player(
    session: AsyncSession,
    game_id: int,
    player_id: int,
    *,
    actor: str,
    now: datetime,
    scoring: HolderScoring,
) -> Erasure:
    """Removes a player's personal data; their points stay, anonymously, with their teams.

    Kept: the holder, its taps, team memberships and totals, and the age band (campaign
    multipliers depend on it, so dropping it would change earned points). The player's cards
    stop scoring and their tokens are revoked.
    """
    player = await player_in_game(session, game_id, player_id)
    if player.erased_at is not None:
        raise Conflict(f"player {player_id} was already erased")
    await scoring.lock_holders(session, [player.holder_id])
    removed = ["nickname", "e-mail", "gender", "neighbourhood (LSOA and decile)"]
    for name, hook in erasure_hooks().items():
        count = await hook(session, player)
        removed.append(f"{name}: {count} record(s)")
    player.nickname = None
    player.nickname_key = None
    player.email = None
    player.gender = None
    player.lsoa_code = None
    player.imd_decile = None
    player.imd_nation = None
    player.deprivation_status = "erased"
    player.public = False
    player.public_name = None
    player.show_nickname = False
    player.nickname_hidden = False
    player.erased_at = now
    await repo.retire_cards(session, game_id, player.holder_id, now)
    revoked = await repo.revoke_player_tokens(session, player.id, now)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="player.erase",
        game_id=game_id,
        player_id=player.id,
        holder_id=player.holder_id,
        tokens_revoked=revoked,
        removed=removed,
    )
    delta = await scoring.rescore_holders(session, game_id, [player.holder_id])
    return Erasure(player.id, now, revoked, removed, [delta])


# ------------------------------------------------------------------------------ retention


async def purge_expired_emails(session: AsyncSession, now: datetime) -> int:
    """Deletes contact e-mails of games that ended more than email_retention_days ago."""
    total = 0
    for game in await repo.games_past_email_retention(session, now):
        count = await repo.clear_emails(session, game.id)
        if count:
            audit.record(
                session, actor="system", action="people.purge_emails", game_id=game.id, emails=count
            )
            total += count
    return total


async def purge_old_attempts(session: AsyncSession, now: datetime) -> int:
    """Forgets failed activation attempts older than a day (they only serve rate limits)."""
    return await repo.purge_attempts_before(session, now - ATTEMPT_RETENTION)


@dataclass(frozen=True)
class Housekeeping:
    emails_deleted: int
    attempts_deleted: int


async def housekeeping(session: AsyncSession, now: datetime) -> Housekeeping:
    """The periodic people job (taptrail.scheduler: ``(session, now)``, caller commits)."""
    return Housekeeping(
        await purge_expired_emails(session, now), await purge_old_attempts(session, now)
    )


# ------------------------------------------------------------------------------ views


def _km(metres: float) -> float:
    return round(metres / 1000, 3)


def _standing(standings: Sequence[repo.TeamStanding], team_id: int) -> TeamStandingOut:
    mine = next(s for s in standings if s.team_id == team_id)
    kind = [s for s in standings if s.kind == mine.kind]
    return TeamStandingOut(
        code=mine.code,
        name=mine.name,
        kind=mine.kind,  # type: ignore[arg-type]
        needs_join_code=join_codes.needs_join_code(mine.kind),
        points=mine.points,
        distance_km=_km(mine.distance_m),
        active_members=mine.active_members,
        rank=1 + sum(1 for s in standings if s.points > mine.points),
        teams=len(standings),
        rank_in_kind=1 + sum(1 for s in kind if s.points > mine.points),
        teams_in_kind=len(kind),
    )


async def team_standing(session: AsyncSession, game_id: int, team_id: int) -> TeamStandingOut:
    return _standing(await repo.team_standings(session, game_id), team_id)


def _journeys(rows: Sequence[Any]) -> list[JourneyOut]:
    """Taps (newest first) grouped into journeys: each starts at a journey start."""
    groups: list[list[TapOut]] = []
    for row in reversed(rows):
        tap = TapOut(
            tapped_at=row.tapped_at,
            checkpoint=row.code,
            checkpoint_name=row.name,
            outcome=row.outcome or "pending",
            points=row.points,
            distance_m=round(row.distance_m, 1),
            multiplier=float(row.multiplier) if row.multiplier is not None else None,
        )
        if not groups or tap.outcome in ("journey_start", "out_of_game"):
            groups.append([])
        groups[-1].append(tap)
    journeys = [
        JourneyOut(
            started_at=g[0].tapped_at,
            points=sum(t.points for t in g),
            distance_km=_km(sum(t.distance_m for t in g)),
            taps=g,
        )
        for g in groups
    ]
    return journeys[::-1][:RECENT_JOURNEYS]


def _notices(player: Player, game: Game) -> list[str]:
    notices = []
    if player.nickname_hidden:
        notices.append(
            "An organiser has hidden your nickname on public boards, where you appear as "
            f"{hidden_name(player.id)}. You can choose a new nickname."
        )
    if player.email:
        until = game.ends_at + timedelta(days=game.email_retention_days)
        notices.append(
            f"Your contact e-mail is kept only for prizes and is deleted on {until.date()}."
        )
    return notices


async def me_view(session: AsyncSession, player: Player, *, now: datetime) -> MeOut:
    game = await repo.game(session, player.game_id)
    assert game is not None
    holder = player.holder_id
    total = await repo.holder_total(session, game.id, holder)
    today_date = now.astimezone(ZoneInfo(game.timezone)).date()
    day = await repo.holder_day(session, game.id, holder, today_date)
    cards = await repo.cards_of_holder(session, game.id, holder)
    # A replaced card's later taps are whoever found it: they score nothing and are shown
    # only at the help desk, so they leave the player's journeys and tap counts.
    taps = await repo.recent_taps(session, game.id, holder, cards, RECENT_TAPS)
    lost_taps, lost_today = await repo.taps_outside_validity(
        session, game.id, holder, cards, today_date
    )
    return MeOut(
        game=game.slug,
        player_id=player.id,
        nickname=player.nickname or "",
        shown_as=public_name(player),
        nickname_hidden=player.nickname_hidden,
        public=player.public,
        show_nickname_publicly=player.show_nickname,
        age_band=player.age_band,
        gender=player.gender,
        has_email=player.email is not None,
        notices=_notices(player, game),
        team=await team_standing(session, game.id, player.team_id) if player.team_id else None,
        totals=TotalsOut(
            points=total.points if total else 0,
            distance_km=_km(total.distance_m) if total else 0.0,
            legs=total.legs if total else 0,
            taps=(total.taps if total else 0) - lost_taps,
        ),
        today=TodayOut(
            date=today_date,
            taps=(day.taps if day else 0) - lost_today,
            legs=day.legs if day else 0,
            points=day.points if day else 0,
            distance_km=_km(day.distance_m) if day else 0.0,
        ),
        cards=[
            CardOut(
                number=c.number,
                kind=c.kind,  # type: ignore[arg-type]
                active=c.valid_until is None or c.valid_until > now,
            )
            for c in cards
        ],
        journeys=_journeys(taps),
    )


async def team_view(session: AsyncSession, game: Game, team: Team) -> TeamPlayersOut:
    """What a team manager sees: the team's players by nickname, their points and activity,
    and the team's join code."""
    standing = await team_standing(session, game.id, team.id)
    members = await repo.team_members(session, game.id, team.id)
    players = sorted(
        (
            MemberOut(
                player_id=m.player_id,
                nickname=hidden_name(m.player_id) if m.nickname_hidden else (m.nickname or ""),
                nickname_hidden=m.nickname_hidden,
                points=m.points,
                legs=m.legs,
                distance_km=_km(m.distance_m),
                days_active=m.days_active,
                last_active_on=m.last_active_on,
            )
            for m in members
        ),
        key=lambda m: (-m.points, m.nickname.casefold()),
    )
    return TeamPlayersOut(
        game=game.slug,
        team=standing,
        join_code=team.join_code,
        players=players,
        other_points=standing.points - sum(m.points for m in players),
    )


def team_out(team: Team) -> TeamOut:
    """A team as the public sees it: never its join code."""
    return TeamOut(
        code=team.code,
        name=team.name,
        kind=team.kind,  # type: ignore[arg-type]
        needs_join_code=join_codes.needs_join_code(team.kind),
    )


async def list_teams(session: AsyncSession, game_id: int, kind: str | None) -> list[TeamOut]:
    return [team_out(t) for t in await repo.teams(session, game_id, kind)]


async def admin_teams(session: AsyncSession, game_id: int) -> list[AdminTeamOut]:
    """Every team with its join code (organisers only)."""
    return [
        AdminTeamOut(**team_out(t).model_dump(), join_code=t.join_code)
        for t in await repo.teams(session, game_id, None)
    ]


async def find_players(
    session: AsyncSession, game_id: int, *, nickname: str | None, card_number: str | None
) -> list[PlayerAdminOut]:
    players = await repo.find_players(
        session,
        game_id,
        nickname=nickname_key(nickname) if nickname else None,
        card_number=card_key(card_number) if card_number else None,
    )
    return await admin_views(session, game_id, players)


async def admin_views(
    session: AsyncSession, game_id: int, players: Sequence[Player]
) -> list[PlayerAdminOut]:
    """What organisers see of players: no e-mail, postcode-derived data, age or gender."""
    cards = await repo.card_numbers_of_holders(session, game_id, [p.holder_id for p in players])
    teams = {t.id: t.code for t in await repo.teams(session, game_id, None)}
    return [
        PlayerAdminOut(
            id=p.id,
            nickname=p.nickname,
            nickname_hidden=p.nickname_hidden,
            public=p.public,
            team=teams.get(p.team_id) if p.team_id else None,
            cards=cards.get(p.holder_id, []),
            registered_at=p.registered_at,
            erased_at=p.erased_at,
            has_email=p.email is not None,
        )
        for p in players
    ]

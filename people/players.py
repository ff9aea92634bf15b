"""Players: who they are to the rest of the game, and the changes they make themselves.

- ``client_key`` and ``card_key``: what the rate limits count by, and a typed card number as
  it is stored;
- ``public_name``: the one rule for how public boards show a player;
- nicknames: checked (names/nicknames.py) and unique in the game, and a made-up public name
  for children;
- looking a player up, the player's own changes, and an organiser hiding a nickname.

Services never commit.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kernel import audit
from kernel.errors import Conflict, NotFound
from names.nicknames import NicknameError, checked_nickname, hidden_name, nickname_key
from names.public_names import is_child, make_name
from people import repository as repo
from people.models import Player
from people.rules import field_error
from people.schemas import MeUpdateIn


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


def checked_nickname_or_error(text: str, age_band: str | None) -> str:
    try:
        return checked_nickname(text, age_band)
    except NicknameError as exc:
        raise field_error("nickname", str(exc)) from None


async def new_public_name(session: AsyncSession, game_id: int) -> str:
    """A made-up public name no other player of the game has."""
    for attempt in range(40):
        name = make_name(digits=2 if attempt < 20 else 3)
        if not await repo.public_name_taken(session, game_id, name):
            return name
    raise Conflict("could not make up a public name: please try again")  # pragma: no cover


async def ensure_nickname_free(
    session: AsyncSession, game_id: int, nickname: str, *, except_player: int | None = None
) -> str:
    key = nickname_key(nickname)
    if await repo.nickname_taken(session, game_id, key, except_player=except_player):
        raise Conflict("that nickname is taken in this game: please choose another")
    return key


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
        nickname = checked_nickname_or_error(form.nickname, player.age_band)
        if nickname != player.nickname:
            player.nickname_key = await ensure_nickname_free(
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
                raise field_error("nickname", f"{exc} (to show it on public boards)") from None
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

"""People: registration, the player's own view, teams and team managers, organiser tools.

Public answers never carry a name, e-mail, postcode, LSOA, card number or team join code
(join codes are seen by the game's organisers and the team's manager). Every write runs
in one transaction under the app's write guard; score changes are published after commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from accounts.tokens import Principal
from api.app_state import app_state
from api.deps import (
    Caller,
    RowId,
    Session,
    game_or_404,
    require_organiser,
    require_player,
)
from api.errors import error_responses
from api.transaction import Transaction, Tx
from game.models import Game, Team
from game.totals import TotalsDelta
from kernel.db import utcnow
from kernel.errors import Forbidden, NotFound
from kernel.vocabulary import TEAM_KINDS
from people import cards, membership, players, privacy, registration, views
from people import repository as repo
from people.models import Player
from people.schemas import (
    AdminTeamsOut,
    CardChangeOut,
    CardLinkIn,
    CardOut,
    CardReplaceIn,
    ErasureOut,
    MeOut,
    MeUpdateIn,
    PlayerAdminOut,
    PlayerAdminUpdateIn,
    PlayerListOut,
    RegistrationIn,
    RegistrationOut,
    TeamChangeIn,
    TeamPlayersOut,
    TeamsOut,
)
from scoring.holders import HOLDER_SCORING

router = APIRouter(tags=["people"])


_DESCRIBED = {
    401: "No token, or a token that is not valid (or was revoked)",
    403: "The token's role or scope does not allow this",
    404: "No such game, team, card or player",
    409: "Already registered, nickname taken, or the card cannot be used",
    422: "A field is not valid (each offending field is named)",
    429: "Too many wrong activation codes, or registrations without a card: wait as long as "
    "the Retry-After header says (seconds)",
}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return error_responses(_DESCRIBED, *codes)


Slug = Annotated[str, Path(min_length=1, max_length=64, examples=["burnley-2027"])]


def _after_commit(
    tx: Transaction, game_id: int, deltas: Sequence[TotalsDelta], *, boards_changed: bool
) -> None:
    """After the commit: score changes to the boards, or the boards rebuilt when who is
    shown on them changed (a registration too: the board has no entry yet that a
    difference could be added to)."""
    if boards_changed:
        tx.rebuild_boards(game_id)
        return
    for delta in deltas:
        if not delta.is_empty():
            tx.publish_scores(game_id, delta)


def _client(request: Request) -> str:
    return players.client_key(request.client.host if request.client else None)


async def _me(session: Session, caller: Principal) -> Player:
    return await players.active_player(session, require_player(caller))


# ------------------------------------------------------------------------------ public


@router.get(
    "/games/{slug}/teams",
    response_model=TeamsOut,
    responses=_errors(404),
    summary="Teams a player can join: codes, names, kinds, whether a join code is needed",
)
async def list_teams(
    slug: Slug,
    session: Session,
    kind: Annotated[str | None, Query(pattern=f"^({'|'.join(TEAM_KINDS)})$")] = None,
) -> TeamsOut:
    game = await game_or_404(session, slug)
    return TeamsOut(game=game.slug, teams=await views.list_teams(session, game.id, kind))


@router.post(
    "/games/{slug}/registrations",
    status_code=201,
    response_model=RegistrationOut,
    responses=_errors(404, 409, 422, 429),
    summary="Register a card (number + activation code), or get a virtual card for the app",
    description="Returns a player token. The postcode is used once to find the neighbourhood's "
    "deprivation decile and is then discarded. Wrong activation codes are limited per device: "
    f"after {registration.CARD_CLIENT_FREE} for one card (or {registration.CLIENT_FREE} over all cards) "
    "in a day, each further one locks the device out for twice as long as the one before "
    "(1, 2, 4 ... minutes); other devices, such as the card owner's, are not affected. "
    f"Registrations without a card: {registration.APP_REGISTRATIONS} per device an hour. "
    "Every 429 answer says in `Retry-After` how many seconds to wait.",
)
async def register(
    slug: Slug, form: RegistrationIn, request: Request, session: Session, tx: Tx
) -> RegistrationOut:
    game = await game_or_404(session, slug)
    # A wrong attempt is committed all the same: the rate limits count it.
    async with tx.write(commit_on=(registration.WrongActivationCode,)):
        result = await registration.register(
            session, game, form, client=_client(request), now=utcnow(), scoring=HOLDER_SCORING
        )
        _after_commit(tx, game.id, result.deltas, boards_changed=True)
    team = result.team
    return RegistrationOut(
        game=game.slug,
        player_id=result.player.id,
        token=result.token,
        nickname=result.player.nickname or "",
        public=result.player.public,
        shown_as=players.public_name(result.player),
        team=views.team_out(team) if team else None,
        card=CardOut(number=result.card.number, kind=result.card.kind, active=True),  # type: ignore[arg-type]
        postcode_status=result.postcode_status,  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------------------ the player


@router.get(
    "/me",
    response_model=MeOut,
    responses=_errors(401, 403),
    summary="The player's own view: points, today, team and its rank, recent journeys",
)
async def get_me(session: Session, caller: Caller) -> MeOut:
    player = await _me(session, caller)
    return await views.me_view(session, player, now=utcnow())


@router.patch(
    "/me",
    response_model=MeOut,
    responses=_errors(401, 403, 409, 422),
    summary="Change one's nickname, public display, or contact e-mail (null removes it)",
)
async def patch_me(
    form: MeUpdateIn, request: Request, session: Session, tx: Tx, caller: Caller
) -> MeOut:
    async with tx.write():
        player = await _me(session, caller)
        if await players.update_player(session, player, form):
            _after_commit(tx, player.game_id, [], boards_changed=True)
    return await views.me_view(session, player, now=utcnow())


@router.put(
    "/me/team",
    response_model=MeOut,
    responses=_errors(401, 403, 422),
    summary="Move to another team from now on; points already earned stay with the old team",
    description="A school is picked from the list; every other team takes its join code "
    "(`join_code`), which its manager gives out.",
)
async def put_my_team(
    form: TeamChangeIn, request: Request, session: Session, tx: Tx, caller: Caller
) -> MeOut:
    now = utcnow()
    async with tx.write():
        player = await _me(session, caller)
        delta = await membership.change_team(
            session,
            player,
            form.team,
            form.join_code,
            now=now,
            actor=caller.actor,
            scoring=HOLDER_SCORING,
        )
        _after_commit(tx, player.game_id, [delta], boards_changed=False)
    return await views.me_view(session, player, now=now)


@router.post(
    "/me/cards",
    response_model=CardChangeOut,
    responses=_errors(401, 403, 404, 409, 422, 429),
    summary="Link a new card (lost or replaced): points carry over, the old card stops now",
)
async def link_my_card(
    form: CardLinkIn, request: Request, session: Session, tx: Tx, caller: Caller
) -> CardChangeOut:
    # A wrong attempt is committed all the same: the rate limits count it.
    async with tx.write(commit_on=(registration.WrongActivationCode,)):
        player = await _me(session, caller)
        change = await cards.link_card(
            session,
            player,
            form.card_number,
            form.activation_code,
            client=_client(request),
            now=utcnow(),
            actor=caller.actor,
            scoring=HOLDER_SCORING,
        )
        _after_commit(tx, player.game_id, change.deltas, boards_changed=False)
    return CardChangeOut(card=change.card, retired=change.retired, moved_taps=change.moved_taps)


# ------------------------------------------------------------------------------ team managers


@router.get(
    "/teams/me",
    response_model=TeamPlayersOut,
    responses=_errors(401, 403),
    summary="A team manager's team: players by nickname, their points and activity, the rank",
)
async def my_team(session: Session, caller: Caller) -> TeamPlayersOut:
    if caller.role != "team_manager" or caller.team_id is None:
        raise Forbidden("this needs a team manager token")
    team = await repo.team(session, caller.team_id)
    game = await repo.game(session, team.game_id) if team else None
    if team is None or game is None:
        raise NotFound("this token's team no longer exists")
    return await views.team_view(session, game, team)


@router.get(
    "/games/{slug}/teams/{code}/players",
    response_model=TeamPlayersOut,
    responses=_errors(401, 403, 404),
    summary="A team's players by nickname with points and activity (its manager or organisers)",
)
async def team_players(slug: Slug, code: str, session: Session, caller: Caller) -> TeamPlayersOut:
    game, team = await _managed_team(session, slug, code, caller)
    return await views.team_view(session, game, team)


@router.delete(
    "/games/{slug}/teams/{code}/members/{player_id}",
    response_model=TeamPlayersOut,
    responses=_errors(401, 403, 404),
    summary="Remove a member from a team (its manager or organisers); earned points stay",
    description="From now on the player counts for no team; the points they earned for the "
    "team stay with it. A team with a join code can be joined again only with the code.",
)
async def remove_member(
    slug: Slug,
    code: str,
    player_id: RowId,
    request: Request,
    session: Session,
    tx: Tx,
    caller: Caller,
) -> TeamPlayersOut:
    game, team = await _managed_team(session, slug, code, caller)
    async with tx.write():
        delta = await membership.remove_member(
            session, team, player_id, now=utcnow(), actor=caller.actor, scoring=HOLDER_SCORING
        )
        _after_commit(tx, game.id, [delta], boards_changed=False)
    return await views.team_view(session, game, team)


async def _managed_team(
    session: Session, slug: str, code: str, caller: Principal
) -> tuple[Game, Team]:
    """The game and team, if the caller is the team's manager or the game's organiser."""
    game = await game_or_404(session, slug)
    team = await repo.team_by_code(session, game.id, code)
    if team is None:
        raise NotFound(f"no team '{code}' in this game")
    if caller.role == "team_manager":
        if caller.team_id != team.id:
            raise Forbidden("a team manager manages only their own team")
    else:
        require_organiser(caller, game)
    return game, team


# ------------------------------------------------------------------------------ organisers


@router.get(
    "/admin/games/{slug}/teams",
    response_model=AdminTeamsOut,
    responses=_errors(401, 403, 404),
    summary="Every team with its join code, to hand to team managers (organisers)",
)
async def admin_teams(slug: Slug, session: Session, caller: Caller) -> AdminTeamsOut:
    game = await game_or_404(session, slug)
    require_organiser(caller, game)
    return AdminTeamsOut(game=game.slug, teams=await views.admin_teams(session, game.id))


@router.get(
    "/admin/games/{slug}/players",
    response_model=PlayerListOut,
    responses=_errors(401, 403, 404),
    summary="Find players by nickname (prefix) or card number (organisers; at most 50)",
)
async def find_players(
    slug: Slug,
    session: Session,
    caller: Caller,
    nickname: Annotated[str | None, Query(max_length=60)] = None,
    card: Annotated[str | None, Query(max_length=32)] = None,
) -> PlayerListOut:
    game = await game_or_404(session, slug)
    require_organiser(caller, game)
    players = await views.find_players(session, game.id, nickname=nickname, card_number=card)
    return PlayerListOut(game=game.slug, players=players)


@router.patch(
    "/admin/games/{slug}/players/{player_id}",
    response_model=PlayerAdminOut,
    responses=_errors(401, 403, 404, 409),
    summary="Hide (or show again) a player's nickname on public boards (organisers)",
)
async def patch_player(
    slug: Slug,
    player_id: RowId,
    form: PlayerAdminUpdateIn,
    request: Request,
    session: Session,
    tx: Tx,
    caller: Caller,
) -> PlayerAdminOut:
    game = await game_or_404(session, slug)
    require_organiser(caller, game)
    async with tx.write():
        player = await players.set_nickname_hidden(
            session, game.id, player_id, form.nickname_hidden, actor=caller.actor
        )
        _after_commit(tx, game.id, [], boards_changed=True)
    return (await views.admin_views(session, game.id, [player]))[0]


@router.delete(
    "/admin/games/{slug}/players/{player_id}",
    response_model=ErasureOut,
    responses=_errors(401, 403, 404, 409),
    summary="Erase a player's personal data; their points stay with their teams, anonymously",
)
async def erase_player(
    slug: Slug, player_id: RowId, request: Request, session: Session, tx: Tx, caller: Caller
) -> ErasureOut:
    game = await game_or_404(session, slug)
    require_organiser(caller, game)
    async with tx.write():
        erasure = await privacy.erase_player(
            session,
            game.id,
            player_id,
            actor=caller.actor,
            now=utcnow(),
            scoring=HOLDER_SCORING,
            elsewhere=app_state(request).player_data_eraser,
        )
        _after_commit(tx, game.id, erasure.deltas, boards_changed=True)
    return ErasureOut(
        player_id=erasure.player_id,
        erased_at=erasure.erased_at,
        tokens_revoked=erasure.tokens_revoked,
        removed=erasure.removed,
    )


@router.post(
    "/admin/games/{slug}/cards/{number}/replace",
    response_model=CardChangeOut,
    responses=_errors(401, 403, 404, 409, 422),
    summary="Replace a lost card: the new card joins the holder, the old one stops scoring now",
)
async def replace_card(
    slug: Slug,
    number: str,
    form: CardReplaceIn,
    request: Request,
    session: Session,
    tx: Tx,
    caller: Caller,
) -> CardChangeOut:
    game = await game_or_404(session, slug)
    require_organiser(caller, game)
    async with tx.write():
        change = await cards.replace_card(
            session,
            game.id,
            number,
            form.new_card,
            now=utcnow(),
            actor=caller.actor,
            scoring=HOLDER_SCORING,
        )
        _after_commit(tx, game.id, change.deltas, boards_changed=False)
    return CardChangeOut(card=change.card, retired=change.retired, moved_taps=change.moved_taps)

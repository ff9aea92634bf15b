"""``taptrail player erase SLUG ID`` and ``taptrail people purge-emails``."""

from __future__ import annotations

import asyncio
import sys

import click
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation.erasure import SURVEY_ANSWERS
from kernel.db import utcnow
from kernel.errors import TaptrailError
from kernel.settings import get_settings
from leaderboard.rebuild import rebuild_from_settings
from organising.repository import game_by_slug
from people import privacy
from scoring.holders import HOLDER_SCORING
from taptrail.commands.common import run_with_session


def register(main: click.Group) -> None:
    main.add_command(player)
    main.add_command(people)


@click.group()
def player() -> None:
    """Players: erase personal data on request."""


@player.command("erase")
@click.argument("slug")
@click.argument("player_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (asked only on a terminal)")
def player_erase(slug: str, player_id: int, yes: bool) -> None:
    """Erase a player's personal data; their points stay with their teams, anonymously."""

    if not yes and sys.stdin.isatty():
        click.confirm(f"Erase player {player_id} of {slug}? This cannot be undone", abort=True)

    async def _erase(session: AsyncSession) -> privacy.Erasure:
        game = await game_by_slug(session, slug)
        if game is None:
            raise click.UsageError(f"no game '{slug}'")
        return await privacy.erase_player(
            session,
            game.id,
            player_id,
            actor="cli",
            now=utcnow(),
            scoring=HOLDER_SCORING,
            elsewhere=SURVEY_ANSWERS,
        )

    try:
        erasure = run_with_session(_erase)
    except TaptrailError as exc:
        raise click.ClickException(exc.detail) from None
    click.echo(
        f"player {erasure.player_id} erased; {erasure.tokens_revoked} token(s) revoked; "
        f"removed: {', '.join(erasure.removed)}"
    )
    _rebuild_boards(slug)


@click.group()
def people() -> None:
    """People data housekeeping."""


@people.command("purge-emails")
def purge_emails() -> None:
    """Delete contact e-mails of games past their retention (email_retention_days)."""

    async def _purge(session: AsyncSession) -> privacy.Housekeeping:
        return await privacy.housekeeping(session, utcnow())

    report = run_with_session(_purge)
    click.echo(f"{report.emails_deleted} contact e-mail(s) deleted")


def _rebuild_boards(slug: str) -> None:
    """Shared (Redis) boards drop the erased nickname now; in-process boards belong to the
    server process, which rebuilds them when it starts."""

    try:
        asyncio.run(rebuild_from_settings(get_settings(), slug))
    except Exception as exc:  # noqa: BLE001 - the erasure is committed either way
        click.echo(
            f"warning: the boards were not rebuilt ({exc}); run `taptrail leaderboard rebuild "
            f"{slug}`",
            err=True,
        )

"""``taptrail user create``: the first organiser (and any staff account) from the shell.

The password is asked for twice without echo, or read from standard input with
``--password-stdin`` (one line). A mistake is one line on standard error and exit status 1.
"""

from __future__ import annotations

import sys

import click
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.staff import service
from accounts.staff.models import STAFF_ROLES
from kernel import audit
from kernel.db import utcnow
from kernel.errors import TaptrailError
from taptrail.commands.common import run_with_session


def register(main: click.Group) -> None:
    main.add_command(user)


@click.group()
def user() -> None:
    """Staff accounts for the console."""


@user.command("create")
@click.option("--email", required=True, help="The person's e-mail address (their sign-in name)")
@click.option("--role", type=click.Choice(STAFF_ROLES), required=True)
@click.option("--game", "game_slug", help="Game slug (organiser: omit for every game)")
@click.option("--team", "team_code", help="Team code (team_manager; needs --game)")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input")
def user_create(
    email: str, role: str, game_slug: str | None, team_code: str | None, password_stdin: bool
) -> None:
    """Create a staff account who signs in at /login."""

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def _create(session: AsyncSession) -> str:
        game_id, team_id = await service.resolve_scope(session, role, game_slug, team_code)
        made = await service.create_user(
            session,
            email=email,
            password=password,
            role=role,
            game_id=game_id,
            team_id=team_id,
            now=utcnow(),
        )
        audit.record(session, actor="cli", action="staff.create", game_id=game_id, user=made.id)
        return made.email

    try:
        created = run_with_session(_create)
    except TaptrailError as exc:
        raise click.ClickException(exc.detail) from None
    scope = f" of {game_slug}" if game_slug else (" of every game" if role == "organiser" else "")
    scope += f" team {team_code}" if team_code else ""
    click.echo(f"{role}{scope} {created} created: they sign in at /login")

"""The ``taptrail`` command (docs/command-line.md)."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
import uvicorn
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.service import TokenInfo, create_cli_token, list_tokens, revoke_token
from accounts.tokens import STAFF_ROLES
from game.definition import DefinitionError
from kernel.db import make_engine, utcnow
from kernel.errors import NotFound
from kernel.scope import OPERATOR
from kernel.secrets_box import secret_box
from kernel.settings import DEFAULT_DATABASE_URL, Settings, get_settings
from organising.repository import game_by_slug
from organising.service import load_definition
from taptrail.commands import checkpoints as commands_checkpoints
from taptrail.commands import evaluation as commands_evaluation
from taptrail.commands import game as commands_game
from taptrail.commands import leaderboard as commands_leaderboard
from taptrail.commands import people as commands_people
from taptrail.commands import staff as commands_staff
from taptrail.commands.common import rebuild_boards_after_cli, run_with_session
from taptrail.demo_runner import demo_task, prepare_demo
from taptrail.http_protocol import JoinedWritesHttpProtocol
from taptrail.migrate import upgrade
from taptrail.operator_errors import explain
from taptrail.server import create_app


class _Commands(click.Group):
    """The command group: a failure is one line on standard error and exit status 1.

    A failure an operator can fix (see :mod:`taptrail.operator_errors`) says what to do;
    anything else is named as a defect. ``--debug`` shows the traceback instead.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if ctx.meta.get("taptrail.debug"):
                raise
            line = explain(
                exc,
                database_url=os.environ.get("TAPTRAIL_DATABASE_URL", DEFAULT_DATABASE_URL),
                redis_url=os.environ.get("TAPTRAIL_REDIS_URL", ""),
            )
            if line is None:
                line = (
                    f"{type(exc).__name__}: {exc} (unexpected: run the command again with "
                    "--debug for the traceback, and report it)"
                )
            click.echo("error: " + " ".join(line.split()), err=True)
            ctx.exit(1)


@click.group(cls=_Commands)
@click.version_option(package_name="taptrail")
@click.option("--debug", is_flag=True, help="Show the traceback of a failure.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Taptrail: community physical-activity games."""
    ctx.meta["taptrail.debug"] = debug


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations."""

    async def _noop(_: AsyncSession) -> None:
        return None

    run_with_session(_noop)
    click.echo("database is up to date")


def _serve(
    settings: Settings,
    host: str,
    port: int,
    background: list[Callable[[Any], Coroutine[Any, Any, None]]] | None = None,
) -> None:
    async def _prepare() -> None:
        """Migrations, and a Redis that answers, before the server starts: a failure
        here is one line from the command, not a server that half starts."""

        engine = make_engine(settings.database_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        if settings.redis_url:
            redis = Redis.from_url(settings.redis_url, socket_connect_timeout=5)
            try:
                await redis.ping()
            finally:
                await redis.aclose()

    asyncio.run(_prepare())
    app = create_app(settings, background=background)
    # What start-up made (modules, routes, models: about 240,000 objects) lives as long as
    # the process: frozen out of the garbage collector's generations, so a full collection
    # while serving, which stops every request in flight, walks only what was made since
    # instead of taking 130 ms or more (BENCHMARKS.md, "Leaderboard reads").
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        # Its lines are INFO, under the level above: never written, but each request's
        # would be put together anyway.
        access_log=False,
        http=JoinedWritesHttpProtocol,  # an answer's head and body in one write
        timeout_graceful_shutdown=20,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        ws_per_message_deflate=settings.ws_compression,
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the API (migrations are applied first)."""
    settings = get_settings()
    click.echo(f"Taptrail on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    _serve(settings, host, port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--taps-per-second", default=3.0, show_default=True, type=float)
@click.option(
    "--database-url",
    default=None,
    help="Load the demo into this database instead of a fresh ./taptrail-demo.db "
    "(TAPTRAIL_DATABASE_URL is never used by the demo)",
)
@click.option(
    "--redis-url",
    default=None,
    help="Use this Redis for the boards instead of in-process ones "
    "(TAPTRAIL_REDIS_URL is never used by the demo)",
)
def demo(
    host: str, port: int, taps_per_second: float, database_url: str | None, redis_url: str | None
) -> None:
    """Serve a built-in demo town with simulated taps moving the boards."""

    settings, banner = prepare_demo(host, port, database_url, redis_url)
    click.echo(banner)
    _serve(settings, host, port, background=[demo_task(taps_per_second)])


@main.group()
def game() -> None:
    """Games: load definition files, re-score."""


@game.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def game_load(file: Path) -> None:
    """Load a game definition file (YAML or JSON): an idempotent upsert."""

    text = file.read_text(encoding="utf-8-sig")

    async def _load(session: AsyncSession) -> Any:
        return await load_definition(
            session,
            text,
            box=secret_box(get_settings()),
            actor="cli",
            scope=OPERATOR,
            filename=file.name,
        )

    try:
        result = run_with_session(_load)
    except DefinitionError as exc:
        click.echo(f"{file}: {len(exc.errors)} problem(s); nothing was changed:", err=True)
        for line in exc.errors:
            click.echo(f"  {line}", err=True)
        sys.exit(1)
    if result.changes:
        click.echo(f"{result.slug}: {len(result.changes)} change(s)")
        for line in result.changes:
            click.echo(f"  {line}")
    else:
        click.echo(f"{result.slug}: no changes")
    for line in result.notes:
        click.echo(f"  note: {line}")
    if result.generated_secrets:
        click.echo("Generated reader secrets (shown once; program them into the boxes):")
        for reader_id, secret in sorted(result.generated_secrets.items()):
            click.echo(f"  {reader_id} {secret}")
    if result.join_codes:
        click.echo("Generated team join codes (give each to its team's manager):")
        for team, join_code in sorted(result.join_codes.items()):
            click.echo(f"  {team} {join_code}")
    if result.changes and not result.created:
        asyncio.run(rebuild_boards_after_cli(result.slug))


@main.group()
def token() -> None:
    """Bearer tokens."""


def _expiry(_ctx: click.Context, _param: click.Parameter, value: str) -> Any:
    """``--expires-in``: a whole number of days from now (a datetime), or ``never`` (None)."""
    if value.strip().lower() == "never":
        return None
    try:
        days = int(value)
    except ValueError:
        days = 0
    if not 1 <= days <= 36500:
        raise click.BadParameter("give a number of days (1 or more) or 'never'")

    return utcnow() + timedelta(days=days)


@token.command("create")
@click.option(
    "--role",
    type=click.Choice(["organiser", "team_manager", "evaluator"]),
    required=True,
)
@click.option("--game", "game_slug", help="Game slug (organiser: omit for every game)")
@click.option("--team", "team_code", help="Team code (team_manager; needs --game)")
@click.option("--label", help="A note to recognise the token by")
@click.option(
    "--expires-in",
    "expires_at",
    default="90",
    show_default=True,
    callback=_expiry,
    metavar="DAYS|never",
    help="Days until the token stops working, or 'never'",
)
def token_create(
    role: str,
    game_slug: str | None,
    team_code: str | None,
    label: str | None,
    expires_at: datetime | None,
) -> None:
    """Create a token; it is printed once, alone on the last line."""

    async def _create(session: AsyncSession) -> str:
        return await create_cli_token(
            session,
            role=role,
            game_slug=game_slug,
            team_code=team_code,
            label=label,
            expires_at=expires_at,
        )

    try:
        value = run_with_session(_create)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    scope = f" for {game_slug}" if game_slug else ""
    scope += f" team {team_code}" if team_code else ""
    until = f"until {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else "with no expiry"
    click.echo(f"{role} token{scope}, {until} (stored only as a hash; keep it safe):")
    click.echo(value)


@token.command("list")
@click.option("--game", "game_slug", help="Only this game's tokens (default: every token)")
@click.option(
    "--role",
    type=click.Choice(["organiser", "team_manager", "evaluator", "player"]),
    help="Only this role (default: every role but players)",
)
@click.option("--limit", default=500, show_default=True, type=click.IntRange(1, 100000))
def token_list(game_slug: str | None, role: str | None, limit: int) -> None:
    """List tokens, newest first: never their values."""

    async def _list(session: AsyncSession) -> list[TokenInfo]:
        game_id = None
        if game_slug is not None:
            game = await game_by_slug(session, game_slug)
            if game is None:
                raise ValueError(f"no game '{game_slug}'")
            game_id = game.id
        roles = STAFF_ROLES if role is None else (role,)
        return await list_tokens(
            session, scope=None, game_id=game_id, roles=roles, limit=limit, now=utcnow()
        )

    try:
        tokens = run_with_session(_list)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(_token_row("ID", "ROLE", "GAME", "TEAM", "CREATED", "LAST USED", "EXPIRES", "STATE"))
    for t in tokens:
        state = "revoked" if t.revoked_at else "active" if t.active else "expired"
        click.echo(
            _token_row(
                str(t.id),
                t.role,
                t.game or "(all)",
                t.team or (f"player {t.player_id}" if t.player_id else "-"),
                _when(t.created_at),
                _when(t.last_used_at, "-"),
                _when(t.expires_at, "never"),
                state + (f"  {t.label}" if t.label else ""),
            )
        )


_TOKEN_COLUMNS = (7, 13, 20, 14, 17, 17, 17)  # widths; the last column (state, label) is free


def _token_row(*cells: str) -> str:
    *fixed, last = cells
    return "  ".join(c.ljust(w) for c, w in zip(fixed, _TOKEN_COLUMNS, strict=True)) + "  " + last


def _when(moment: Any, none: str = "") -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment is not None else none


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token (by its ID in `token list`) from now on."""

    async def _revoke(session: AsyncSession) -> TokenInfo:
        return await revoke_token(session, token_id, scope=None, actor="cli", now=utcnow())

    try:
        info = run_with_session(_revoke)
    except NotFound as exc:
        raise click.UsageError(exc.detail) from None
    click.echo(f"token {info.id} ({info.role}) revoked at {_when(info.revoked_at)} UTC")


for _domain_commands in (
    commands_game,
    commands_checkpoints,
    commands_leaderboard,
    commands_people,
    commands_evaluation,
    commands_staff,
):
    _domain_commands.register(main)


if __name__ == "__main__":
    main()

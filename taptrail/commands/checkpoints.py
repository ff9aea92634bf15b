"""``taptrail reader …``: manage a game's reader boxes and see which need a visit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from checkpoints import health
from checkpoints.service import (
    create_reader,
    list_readers,
    move_reader,
    rotate_secret,
    set_disabled,
)
from kernel.db import utcnow
from kernel.errors import TaptrailError
from kernel.secrets_box import secret_box
from kernel.settings import get_settings
from organising import repository as game_repo
from scoring.holders import HOLDER_SCORING
from taptrail.commands.common import rebuild_boards_after_cli, run_with_session

T = TypeVar("T")


def _run(slug: str, fn: Callable[[AsyncSession, Any], Awaitable[T]]) -> T:
    """Runs ``fn(session, game)`` in one transaction; domain errors become CLI errors."""

    async def _with_game(session: AsyncSession) -> T:
        game = await game_repo.game_by_slug(session, slug)
        if game is None:
            raise click.ClickException(f"no game '{slug}'")
        return await fn(session, game)

    try:
        return run_with_session(_with_game)
    except TaptrailError as exc:
        raise click.ClickException(exc.detail) from None


def _box() -> Any:

    return secret_box(get_settings())


def _time(value: datetime | None) -> str:
    return "" if value is None else value.isoformat().replace("+00:00", "Z")


def register(main: click.Group) -> None:
    @main.group()
    def reader() -> None:
        """Reader boxes: add, rotate secrets, disable/enable, move; box health."""

    game_option = click.option("--game", "slug", required=True, help="Game slug")

    @reader.command("create")
    @game_option
    @click.option("--id", "reader_id", required=True, help="The box's serial number")
    @click.option("--checkpoint", required=True, help="Checkpoint code")
    def create(slug: str, reader_id: str, checkpoint: str) -> None:
        """Add a reader; prints its secret once."""

        async def _go(session: AsyncSession, game: Any) -> str:
            _, secret = await create_reader(
                session, game, reader_id, checkpoint, box=_box(), actor="cli"
            )
            return secret

        secret = _run(slug, _go)
        click.echo(f"reader {reader_id} at {checkpoint}; its secret (shown once):")
        click.echo(secret)

    @reader.command("rotate-secret")
    @game_option
    @click.argument("reader_id")
    def rotate(slug: str, reader_id: str) -> None:
        """Give a reader a new secret (printed once); the old one stops working."""

        async def _go(session: AsyncSession, game: Any) -> str:
            return await rotate_secret(
                session, game, reader_id, box=_box(), actor="cli", now=utcnow()
            )

        secret = _run(slug, _go)
        click.echo(f"new secret for {reader_id} (shown once):")
        click.echo(secret)

    def _toggle(name: str, disabled: bool, summary: str) -> None:
        @reader.command(name, help=summary)
        @game_option
        @click.argument("reader_id")
        def command(slug: str, reader_id: str) -> None:

            async def _go(session: AsyncSession, game: Any) -> None:
                await set_disabled(session, game, reader_id, disabled, actor="cli")

            _run(slug, _go)
            click.echo(f"reader {reader_id} {name}d")

    _toggle("disable", True, "Disable a reader: its uploads and heartbeats are refused.")
    _toggle("enable", False, "Enable a disabled reader again.")

    @reader.command("move")
    @game_option
    @click.argument("reader_id")
    @click.option("--checkpoint", required=True, help="The new checkpoint's code")
    @click.option(
        "--from",
        "valid_from",
        type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z"]),
        help="When it was moved, with an offset (default: now)",
    )
    def move(slug: str, reader_id: str, checkpoint: str, valid_from: datetime | None) -> None:
        """Move a reader to another checkpoint from a time; later stored taps follow it."""

        async def _go(session: AsyncSession, game: Any) -> int:
            result = await move_reader(
                session,
                game,
                reader_id,
                checkpoint,
                valid_from,
                actor="cli",
                now=utcnow(),
                scoring=HOLDER_SCORING,
            )
            return result.taps_moved

        moved = _run(slug, _go)
        click.echo(f"reader {reader_id} moved to {checkpoint}; {moved} stored tap(s) moved")
        if moved:
            asyncio.run(rebuild_boards_after_cli(slug))

    @reader.command("list")
    @game_option
    def list_(slug: str) -> None:
        """The game's readers and where they stood."""

        for item in _run(slug, list_readers):
            state = " (disabled)" if item["disabled"] else ""
            click.echo(f"{item['id']}  {item['checkpoint']}{state}")
            for a in item["assignments"]:
                click.echo(f"    {a['checkpoint']} from {_time(a['valid_from']) or 'the start'}")

    @reader.command("boxes")
    @game_option
    @click.option("--csv", "as_csv", is_flag=True, help="CSV instead of a table")
    def boxes(slug: str, as_csv: bool) -> None:
        """Box health: which boxes need a visit today, most urgent first."""

        async def _go(session: AsyncSession, game: Any) -> list[dict[str, Any]]:
            return (await health.boxes(session, game, utcnow()))[1]

        rows = _run(slug, _go)
        if as_csv:
            click.echo(health.to_csv(rows), nl=False)
            return
        for row in rows:
            flag = "VISIT" if row["needs_visit"] else "     "
            battery = "" if row["battery_pct"] is None else f"{row['battery_pct']}%"
            click.echo(
                f"{flag} {row['reader_id']:<20} {row['checkpoint']:<10} "
                f"{' '.join(row['statuses']):<40} battery {battery:<5} "
                f"last contact {_time(row['last_contact_at']) or 'never'}  "
                f"taps today {row['taps_today']}"
            )

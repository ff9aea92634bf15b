"""``taptrail leaderboard rebuild SLUG``."""

from __future__ import annotations

import asyncio

import click

from kernel.settings import get_settings
from leaderboard.rebuild import rebuild_from_settings


def register(main: click.Group) -> None:
    @main.group()
    def leaderboard() -> None:
        """Leaderboards (derived from the database; rebuildable at any time)."""

    @leaderboard.command("rebuild")
    @click.argument("slug")
    def rebuild(slug: str) -> None:
        """Rebuild every board of a game from the database and swap them in atomically."""

        settings = get_settings()
        if settings.redis_url is None:
            click.echo("no TAPTRAIL_REDIS_URL: boards are in-process and rebuilt at start-up")
            return
        try:
            version = asyncio.run(rebuild_from_settings(settings, slug))
        except LookupError as exc:
            raise click.UsageError(str(exc)) from None
        click.echo(f"{slug}: boards rebuilt (version {version})")

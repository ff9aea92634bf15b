"""``taptrail game …`` commands of the scoring domain: re-score, check, draws, card."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession
from tqdm import tqdm

from kernel.db import utcnow
from kernel.errors import TaptrailError
from organising import repository
from organising.draws import draw_outs, run_draws_for_day, run_due_draws
from organising.helpdesk import card_view, summary
from scoring import inputs
from scoring import rescore as scoring_rescore
from scoring.ledger import ledger_mismatches
from taptrail.commands.common import rebuild_boards_after_cli, run_with_session


def register(main: click.Group) -> None:
    group = main.commands.get("game")
    if not isinstance(group, click.Group):  # pragma: no cover - taptrail.cli defines it
        group = click.Group("game", help="Games.")
        main.add_command(group)
    for command in (rescore, check_totals, run_draws, draw_day, card):
        group.add_command(command)


async def _game(session: AsyncSession, slug: str) -> Any:
    game = await repository.game_by_slug(session, slug)
    if game is None:
        raise click.ClickException(f"no game '{slug}'")
    return game


@click.command("rescore")
@click.argument("slug")
@click.option("--reason", default="requested on the command line", show_default=True)
def rescore(slug: str, reason: str) -> None:
    """Re-score every tap of a game (after a rule change) and rebuild its totals."""

    async def _run(session: AsyncSession) -> Any:
        game = await _game(session, slug)
        total = await inputs.tap_count(session, game.id)
        with tqdm(
            total=total, unit="tap", desc=f"re-scoring {slug}", file=sys.stderr, disable=None
        ) as bar:
            report = await scoring_rescore.rescore_game(
                session, game.id, actor="cli", reason=reason, progress=bar.update
            )
        return game.id, report

    game_id, report = run_with_session(_run)
    click.echo(
        f"{slug}: {report.taps} taps re-scored, {report.changed} outcomes changed, "
        f"points {report.points_before} → {report.points_after} "
        f"({report.points_moved} points moved)"
    )
    _rebuild_boards(slug)


def _rebuild_boards(slug: str) -> None:
    asyncio.run(rebuild_boards_after_cli(slug))


@click.command("check-totals")
@click.argument("slug")
def check_totals(slug: str) -> None:
    """Check that every stored total equals its sum over the ledger (exit 1 if not)."""

    async def _run(session: AsyncSession) -> list[str]:
        game = await _game(session, slug)
        return await ledger_mismatches(session, game.id)

    problems = run_with_session(_run)
    if not problems:
        click.echo(f"{slug}: every stored total matches the ledger")
        return
    click.echo(f"{slug}: {len(problems)} total(s) differ from the ledger:")
    for line in problems[:50]:
        click.echo(f"  {line}")
    click.echo("`taptrail game rescore SLUG` rebuilds them from the ledger.")
    sys.exit(1)


@click.command("run-draws")
def run_draws() -> None:
    """Run every lucky-tap draw that is due, in every game (safe to run from cron)."""

    async def _run(session: AsyncSession) -> Any:
        made = await run_due_draws(session, utcnow(), actor="cli")
        return await draw_outs(session, made)

    for draw in run_with_session(_run):
        ids = ", ".join(str(w.player_id) for w in draw.winners) or "no candidates"
        click.echo(f"draw {draw.id} for {draw.date}: seed {draw.seed}, winners {ids}")


@click.command("draw")
@click.argument("slug")
@click.option("--date", "day", required=True, type=click.DateTime(["%Y-%m-%d"]))
def draw_day(slug: str, day: Any) -> None:
    """Run the lucky-tap draw(s) scheduled for one local day of a game."""

    async def _run(session: AsyncSession) -> Any:
        game = await _game(session, slug)
        new, earlier = await run_draws_for_day(session, game, day.date(), actor="cli", now=utcnow())
        return await draw_outs(session, new), await draw_outs(session, earlier)

    try:
        new, earlier = run_with_session(_run)
    except TaptrailError as exc:
        raise click.ClickException(exc.detail) from None
    for label, draws in (("new", new), ("drawn earlier", earlier)):
        for d in draws:
            names = ", ".join(f"{w.nickname or '?'} (#{w.player_id})" for w in d.winners)
            click.echo(
                f"{label}: draw {d.id}, seed {d.seed}, {d.candidate_count} candidates: "
                f"{names or 'no winners'}"
            )


@click.command("card")
@click.argument("slug")
@click.argument("number")
def card(slug: str, number: str) -> None:
    """The help-desk view of a card: every tap and why it scored or not."""

    async def _run(session: AsyncSession) -> Any:
        return await card_view(session, await _game(session, slug), number)

    try:
        view = run_with_session(_run)
    except TaptrailError as exc:
        raise click.ClickException(exc.detail) from None
    team = view.team.code if view.team else "no team"
    who = view.player.nickname if view.player else "unregistered"
    click.echo(
        f"card {view.card.number} ({view.card.uid}): {who}, {team}; "
        f"{view.points} points, {view.distance_km} km"
    )
    for line in summary(view):
        click.echo(f"  {line}")
    for r in view.rejected:
        click.echo(f"  rejected {r.reason} from {r.reader_id} at {r.tapped_at_raw}")

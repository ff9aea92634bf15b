"""``taptrail import imd|postcodes FILE`` and ``taptrail export SLUG --project NAME`` (the
evaluator's data package, written to a folder)."""

from __future__ import annotations

import asyncio
import sys
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession
from tqdm import tqdm

from evaluation import exports, package
from evaluation import repository as repo
from evaluation.csv_source import ImportFileError
from evaluation.importing import import_imd as run_imd_import
from evaluation.importing import import_postcodes as run_postcode_import
from kernel.db import make_engine, make_sessionmaker, utcnow
from kernel.errors import TaptrailError
from kernel.secrets_box import secret_box
from kernel.settings import get_settings
from organising import repository as game_repo
from taptrail.migrate import upgrade

if TYPE_CHECKING:  # the command line starts faster without the database modules
    from evaluation.importing import ImportSummary

T = TypeVar("T")
SHOWN_ERRORS = 20


def _run(fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``fn`` with a session of its own; ``fn`` commits (imports commit per batch)."""

    async def _main() -> T:
        engine = make_engine(get_settings().database_url)
        try:
            await upgrade(engine)
            async with make_sessionmaker(engine)() as session:
                return await fn(session)
        finally:
            await engine.dispose()

    return asyncio.run(_main())


def _file_size(path: Path) -> int | None:
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                sizes = [i.file_size for i in archive.infolist() if i.filename.endswith(".csv")]
                return max(sizes) if sizes else None
        except zipfile.BadZipFile:
            return None
    return path.stat().st_size


def _report(file: Path, summary: ImportSummary, what: str) -> None:
    click.echo(f"{file.name}: {summary.rows:,} {what} imported in {summary.batches} batch(es)")
    for note in summary.notes:
        click.echo(f"  note: {note}")
    if summary.error_count:
        click.echo(
            f"{summary.error_count:,} line(s) were skipped (the rest was imported):", err=True
        )
        for error in summary.errors[:SHOWN_ERRORS]:
            click.echo(f"  {error}", err=True)
        if summary.error_count > SHOWN_ERRORS:
            click.echo(f"  ... and {summary.error_count - SHOWN_ERRORS:,} more", err=True)
        sys.exit(1)


def _import(
    file: Path,
    label: str,
    work: Callable[[AsyncSession, Callable[[int], Any], Callable[[int], Awaitable[Any]]], Any],
) -> ImportSummary:
    with tqdm(
        total=_file_size(file),
        unit="B",
        unit_scale=True,
        desc=label,
        file=sys.stderr,
        disable=None,  # quiet off a terminal (cron, CI, a pipe)
    ) as bar:

        async def _go(session: AsyncSession) -> ImportSummary:
            async def commit(_rows: int) -> None:
                await session.commit()
                bar.set_postfix(rows=f"{_rows:,}")

            summary: ImportSummary = await work(session, bar.update, commit)
            await session.commit()
            return summary

        try:
            return _run(_go)
        except ImportFileError as error:
            bar.close()
            click.echo(f"{file}: {error}", err=True)
            click.echo("nothing was imported", err=True)
            sys.exit(2)


def register(main: click.Group) -> None:
    @main.group("import")
    def import_group() -> None:
        """Reference data: deprivation indices and postcode lookups (national, not per game)."""

    @import_group.command("imd")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--edition", help="IoD edition (e.g. 2019, 2025) when the headers do not say it")
    @click.option("--batch-rows", default=5000, show_default=True, type=click.IntRange(1))
    @click.option(
        "--keep-other-editions",
        is_flag=True,
        help="Do not remove the nation's areas of other editions",
    )
    def import_imd(
        file: Path, edition: str | None, batch_rows: int, keep_other_editions: bool
    ) -> None:
        """Import an Indices of Deprivation "File 7" CSV (IoD2019 or IoD2025; or a .zip).

        Columns are matched by their start; a byte-order mark, thousands separators and
        latin-1 lines are handled. Bad lines are skipped and listed by line number (exit
        status 1); an unreadable header imports nothing (exit status 2).
        """

        summary = _import(
            file,
            "IoD",
            lambda session, progress, commit: run_imd_import(
                session,
                file,
                edition=edition,
                batch_rows=batch_rows,
                progress=progress,
                after_batch=commit,
                replace_other_editions=not keep_other_editions,
            ),
        )
        details = summary.details
        click.echo(f"{details['nation']} IoD{details['edition']}")
        _report(file, summary, "areas")

    @import_group.command("postcodes")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option(
        "--lsoa-vintage",
        type=click.Choice(["2011", "2021"]),
        help="Which LSOA column to use when the file has several (default: the one matching "
        "the imported IoD edition, else the newest)",
    )
    @click.option("--batch-rows", default=5000, show_default=True, type=click.IntRange(1))
    def import_postcodes(file: Path, lsoa_vintage: str | None, batch_rows: int) -> None:
        """Import an ONS postcode lookup (NSPL, ONSPD or PCD->OA->LSOA; CSV or the ONS .zip).

        The column names of the release are detected; terminated postcodes are kept so
        older registrations still match. Streams the file: the full UK file (about 2.7
        million rows) imports in bounded memory, committing every batch.
        """
        summary = _import(
            file,
            "postcodes",
            lambda session, progress, commit: run_postcode_import(
                session,
                file,
                lsoa_vintage=lsoa_vintage,
                batch_rows=batch_rows,
                progress=progress,
                after_batch=commit,
            ),
        )
        details = summary.details
        click.echo(
            f"LSOA {details['lsoa_vintage']} codes from column {details['columns']['lsoa_code']}; "
            f"{details['terminated']:,} terminated postcodes kept"
        )
        _report(file, summary, "postcodes")

    @main.command("export")
    @click.argument("slug")
    @click.option("--project", "project_name", required=True, help="Evaluation project name")
    @click.option(
        "--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True
    )
    @click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        show_default=True,
        help="Directory for the data package (datapackage.json, methods.md and the files)",
    )
    @click.option("--create", is_flag=True, help="Create the project (k = 10) if it is missing")
    def export(slug: str, project_name: str, fmt: str, out: Path, create: bool) -> None:
        """Write a game's anonymised evaluation data package to a folder: players, daily and
        surveys files, datapackage.json (Frictionless Table Schemas) and methods.md."""

        box = secret_box(get_settings())
        out.mkdir(parents=True, exist_ok=True)

        async def _go(session: AsyncSession) -> list[Path]:
            game = await game_repo.game_by_slug(session, slug)
            if game is None:
                raise click.UsageError(f"no game '{slug}'")
            project = await repo.project_by_name(session, game.id, project_name)
            if project is None and create:
                await exports.create_project(session, game, project_name, box=box, actor="cli")
                await session.commit()
                click.echo(f"created evaluation project '{project_name}' (k = 10)")
            ctx = await exports.export_context(session, game, project_name, box=box)
            await session.commit()

            def bar(name: str) -> Callable[[int], Any]:
                return tqdm(
                    desc=name, unit=" rows", unit_scale=True, file=sys.stderr, disable=None
                ).update

            written = await package.write_package(
                session, ctx, out, fmt, generated_on=utcnow().date(), progress=bar
            )
            for name in exports.FILES:
                await exports.record_export(session, ctx, name, actor="cli", fmt=fmt)
            await session.commit()
            k = ctx.plan.manifest
            click.echo(
                f"k = {k['k']}: {k['records_out']:,} players exported, "
                f"{k['records_suppressed']:,} suppressed; generalised: "
                + (", ".join(g["step"] for g in k["generalisations"]) or "nothing")
            )
            return written

        try:
            paths = _run(_go)
        except TaptrailError as error:
            raise click.UsageError(error.detail) from None
        for path in paths:
            click.echo(str(path))

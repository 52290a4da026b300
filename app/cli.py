"""The `atlas` command: load the seeds, serve the API, help curators locate quotes."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.config import get_settings

if TYPE_CHECKING:
    from app.seeding.loader import LoadReport

cli = typer.Typer(help="Innovation Atlas: regional innovation data, sourced and queryable.")
console = Console(stderr=True)


@cli.command()
def load(
    seeds: Annotated[Path | None, typer.Option(help="Directory of seed files.")] = None,
    documents: Annotated[
        Path | None,
        typer.Option(help="Directory of the raw documents to verify locators against."),
    ] = None,
    verify: Annotated[
        bool, typer.Option(help="Check every locator against the raw documents when present.")
    ] = True,
) -> None:
    """Migrate the database to the latest schema and load the seeds, in one transaction."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.db import build_engine
    from app.migrate import upgrade_to_head
    from app.seeding.checks import check_dataset
    from app.seeding.errors import SeedError
    from app.seeding.loader import load_dataset
    from app.seeding.reader import read_dataset

    settings = get_settings()
    seeds_dir = seeds or settings.seeds_dir
    documents_dir = (documents or settings.documents_dir) if verify else None
    if documents is not None and not documents.is_dir():
        console.print(f"[red]error:[/] documents directory {documents} does not exist")
        raise typer.Exit(2)
    try:
        with console.status("reading seeds"):
            dataset = read_dataset(seeds_dir)
            verification = check_dataset(dataset, documents_dir)
    except SeedError as exc:
        console.print(
            f"[red]Seeds rejected; the database was not touched.[/] {len(exc.problems)} problem(s):"
        )
        for problem in exc.problems:
            console.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(1) from exc
    if documents_dir is None:
        console.print("[yellow]raw documents not found: locators were not checked against them[/]")
    else:
        console.print(
            f"verified {verification.spans} spans against {verification.documents} documents"
            f" in {documents_dir}"
        )
    try:
        with console.status("migrating") as status:
            upgrade_to_head(settings.database_url)
            engine = build_engine(settings.database_url)
            report = load_dataset(engine, dataset, lambda s: status.update(f"loading {s}"))
            engine.dispose()
    except (SQLAlchemyError, OSError) as exc:
        console.print(
            f"[red]error:[/] the database could not be loaded: {exc.__class__.__name__}: {exc}"
        )
        raise typer.Exit(1) from exc
    except SeedError as exc:
        for problem in exc.problems:
            console.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(1) from exc
    _print_report(report)


def _print_report(report: "LoadReport") -> None:
    table = Table(title="Loaded" if report.changed else "Loaded: no changes")
    for column in ("table", "records", "inserted", "updated", "deleted"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for name, changes in report.tables.items():
        table.add_row(
            name,
            str(changes.total),
            str(changes.inserted),
            str(changes.updated),
            str(changes.deleted),
        )
    console.print(table)


@cli.command()
def synth(
    database_url: Annotated[
        str, typer.Option("--database-url", help="Where to write: a new database of its own.")
    ],
    cities: Annotated[int, typer.Option(min=1, max=100_000)] = 3000,
    indicators: Annotated[int, typer.Option(min=1, max=1000)] = 40,
    years: Annotated[int, typer.Option(min=1, max=100)] = 25,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same data.")] = 20240325,
) -> None:
    """Generate synthetic scale data (clearly marked) into a database of its own."""
    import time

    from app.config import Settings
    from app.db import build_engine
    from app.migrate import upgrade_to_head
    from app.synthetic import NotSyntheticTarget, Shape, generate

    url = Settings(database_url=database_url).database_url
    shape = Shape(cities=cities, indicators=indicators, years=years, seed=seed)
    upgrade_to_head(url)
    engine = build_engine(url)
    try:
        with console.status("generating") as status:
            started = time.perf_counter()
            report = generate(engine, shape, lambda step: status.update(f"writing {step}"))
            elapsed = time.perf_counter() - started
    except NotSyntheticTarget as exc:
        console.print(f"[red]refused:[/] {exc}")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    rows = report.observations
    console.print(
        f"wrote {rows:,} synthetic observations in {elapsed:.1f} s:"
        f" rows {rows / report.row_seconds:,.0f}/s ({report.row_seconds:.1f} s),"
        f" secondary indexes {report.index_seconds:.1f} s,"
        f" overall {rows / elapsed:,.0f}/s"
    )


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Serve the API with uvicorn (keep-alive sockets keep TCP_NODELAY with any worker count).

    Exits with status 1 and one line saying why if the database is unreachable or unloaded."""
    from app.db import build_engine
    from app.main import DatabaseNotReady, check_database
    from app.server import TooFewOpenFiles
    from app.server import serve as run_server

    url = get_settings().database_url
    engine = build_engine(url, read_only=True, pool_size=1)
    try:
        check_database(engine, url)
    except DatabaseNotReady as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    try:
        run_server(host, port, workers)
    except TooFewOpenFiles as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


@cli.command("grant-reader")
def grant_reader(
    role: Annotated[str, typer.Argument(help="An existing PostgreSQL login role.")],
) -> None:
    """Let ROLE read every table (and tables added by later migrations); run as the owner.
    Point the API's DATABASE_URL at that role."""
    from sqlalchemy.exc import DBAPIError

    from app.db import build_engine
    from app.privileges import GrantFailed, NotPostgres
    from app.privileges import grant_reader as grant

    engine = build_engine(get_settings().database_url)
    try:
        grant(engine, role)
    except NotPostgres as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    except GrantFailed as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    except DBAPIError as exc:
        console.print(f"[red]error:[/] cannot reach the database: {exc.orig}", highlight=False)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    console.print(f"{role} can now SELECT from every table; it cannot write")


@cli.command()
def locate(
    document: Annotated[Path, typer.Argument(help="A raw document file.")],
    text: Annotated[str, typer.Argument(help="The exact text to find in it.")],
) -> None:
    """Print the locator (char=START,END) of every place TEXT occurs in DOCUMENT."""
    content = document.read_text(encoding="utf-8")
    start = content.find(text)
    if start < 0:
        console.print(f"[red]not found in {document}[/]")
        raise typer.Exit(1)
    while start >= 0:
        typer.echo(f"char={start},{start + len(text)}")
        start = content.find(text, start + 1)


def main() -> None:
    cli()

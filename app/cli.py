"""The `atlas` command: `load` the seeds, `serve` the API, `grant-reader` a read-only
PostgreSQL role, `synth` a synthetic scale database, and for curators `locate` a quote's
offsets and `extract` candidate facts from an article.

Each command imports what it needs inside its function, so `atlas load` never imports the
web stack (tests/test_imports.py checks it)."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from .config import get_settings

if TYPE_CHECKING:
    from .seeding.releases import LoadReport

cli = typer.Typer(help="Innovation Atlas: regional innovation data, sourced and queryable.")
console = Console(stderr=True)


def database_url() -> str:
    """DATABASE_URL, checked: a URL no engine can use is one line and exit status 1."""
    from .db import url_problem

    url = get_settings().database_url
    problem = url_problem(url)
    if problem is not None:
        console.print(
            f"[red]error:[/] DATABASE_URL cannot be used: {problem}", highlight=False,
            soft_wrap=True, markup=True,
        )  # fmt: skip
        raise typer.Exit(1)
    return url


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
    from rich.markup import escape
    from sqlalchemy.exc import SQLAlchemyError

    from .faults import driver_error
    from .seeding.archive import Keeping
    from .seeding.errors import SeedError
    from .seeding.pipeline import SeedsRejected, seed

    settings = get_settings()
    url = database_url()
    documents_dir = (documents or settings.documents_dir) if verify else None
    if documents is not None and not documents.is_dir():
        console.print(f"[red]error:[/] documents directory {documents} does not exist")
        raise typer.Exit(2)
    try:
        with console.status("reading seeds") as status:
            seeded = seed(url, seeds or settings.seeds_dir, documents_dir, status.update,
                          settings.releases_dir,
                          Keeping(settings.archives_dir, settings.keep_releases))  # fmt: skip
    except SeedsRejected as exc:
        console.print(
            f"[red]Seeds rejected; the database was not touched.[/] {len(exc.problems)} problem(s):"
        )
        for problem in exc.problems:
            console.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(1) from exc
    except (SQLAlchemyError, OSError) as exc:
        cause = driver_error(exc)
        said = " ".join(str(cause).split())  # one line: no SQLAlchemy background link
        console.print(
            f"[red]error:[/] the database could not be loaded: {cause.__class__.__name__}:"
            f" {escape(said)}", highlight=False, soft_wrap=True,
        )  # fmt: skip
        raise typer.Exit(1) from None
    except SeedError as exc:
        for problem in exc.problems:
            console.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(1) from exc
    verification = seeded.verification
    console.print(
        f"verified {verification.cells} cells against {verification.tables} tables",
        highlight=False,
    )
    if documents_dir is None:
        console.print("[yellow]raw documents not found: locators were not checked against them[/]")
    else:
        console.print(
            f"verified {verification.spans} spans against {verification.documents} documents"
            f" in {documents_dir}"
        )
    _print_report(seeded.report)
    if seeded.not_kept is not None:
        console.print(
            f"[yellow]warning:[/] the data is loaded, but release {seeded.version[:16]} could"
            f" not be kept for pinned reads ({escape(seeded.not_kept)}); requests pinned to it"
            " are answered until the next load", highlight=False, soft_wrap=True,
        )  # fmt: skip
    elif seeded.kept is not None:
        console.print(f"kept release {seeded.version[:16]} for pinned reads in {seeded.kept}",
                      highlight=False, soft_wrap=True)  # fmt: skip
    _purge_caches(seeded.previous_version, seeded.version, settings.purge_url)


def _purge_caches(before: str, after: str, url: str | None) -> None:
    """Tell shared caches what the load made stale: the keys, and a purge if configured.
    The data is loaded either way; without a purge, caches see it within max-age."""
    from .caching import keys_to_purge, send_purge

    keys = keys_to_purge(before, after)
    if not keys:
        return
    stale = " ".join(keys)
    console.print(
        f"dataset version {after}; stale in caches: Surrogate-Key {stale}", soft_wrap=True
    )
    if url is None:
        return
    try:
        status = send_purge(url, keys, after)
    except OSError as exc:
        max_age = get_settings().cache_max_age
        console.print(
            f"[yellow]warning:[/] the cache purge (ATLAS_PURGE_URL) failed ({exc}); caches"
            f" serve the previous version for up to {max_age} s more",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
        return
    console.print(f"purged {stale} (HTTP {status})", highlight=False, soft_wrap=True)


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
    by_source = Table(title="Values by source")
    by_source.add_column("source")
    by_source.add_column("values", justify="right")
    for source, count in sorted(report.values_by_source.items()):
        by_source.add_row(source, str(count))
    console.print(by_source)


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

    from .config import Settings
    from .db import build_engine
    from .migrate import upgrade_to_head
    from .synthetic import NotSyntheticTarget, Shape, generate

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

    Exits with status 1 and one line (the database, the cause, the fix) if the database is
    unreachable or unloaded."""
    from rich.markup import escape
    from sqlalchemy.exc import ArgumentError

    from .db import build_engine
    from .limits import TooFewOpenFiles
    from .main import DatabaseNotReady, check_database, cursor_secret
    from .nodes import replica_problem
    from .server import serve as run_server

    url = database_url()
    if (problem := replica_problem(get_settings())) is not None:
        console.print(f"[red]error:[/] {escape(problem)}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    try:
        engine = build_engine(url, read_only=True, pool_size=1)
    except ArgumentError as exc:  # the URL itself is not usable; it is not shown (secrets)
        console.print(
            f"[red]error:[/] DATABASE_URL is not a database URL this server can use"
            f" ({escape(str(exc))}); use sqlite:///PATH or postgresql://USER@HOST/DATABASE",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
        raise typer.Exit(1) from None
    try:
        check_database(engine, url)
        cursor_secret(engine, get_settings())
    except DatabaseNotReady as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
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

    from .db import build_engine
    from .privileges import GrantFailed, NotPostgres
    from .privileges import grant_reader as grant

    engine = build_engine(database_url())
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


@cli.command()
def extract(
    document: Annotated[Path, typer.Argument(help="An article: plain text or HTML, UTF-8.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="One candidate per line instead of a draft.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="A seeds directory: write documents/<source-id>.yaml there and add the"
            " source to its sources.yaml."
        ),
    ] = None,
    text_dir: Annotated[
        Path | None,
        typer.Option(help="Where to save an HTML page's main text, which locators point into."),
    ] = None,
    source_id: Annotated[
        str | None, typer.Option(help="Source id of the draft (default: from date and name).")
    ] = None,
) -> None:
    """Propose candidate facts from DOCUMENT for a curator: a draft seed file, or --json.

    Matches subjects and indicators against the loaded database."""
    from .db import build_engine
    from .extract.candidates import Vocabulary, VocabularyError
    from .extract.candidates import extract as find_candidates
    from .extract.documents import DocumentError, read_document
    from .extract.drafts import candidate_json, draft, source_entry, source_id_for, to_yaml

    try:
        doc = read_document(document)
        engine = build_engine(database_url(), read_only=True, pool_size=1)
        try:
            vocabulary = Vocabulary.from_database(engine)
        finally:
            engine.dispose()
    except (DocumentError, VocabularyError) as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2 if isinstance(exc, DocumentError) else 1) from None
    candidates = find_candidates(doc, vocabulary)
    if as_json:
        for candidate in candidates:
            typer.echo(candidate_json(candidate).decode())
        return
    sid = source_id or source_id_for(doc)
    file_name = f"{sid}.txt" if doc.is_html else doc.file_name
    document_file, left_out = draft(doc, candidates, sid, vocabulary.units)
    entry = source_entry(doc, sid, file_name)
    console.print(
        f"{len(candidates)} candidate(s); {len(candidates) - left_out} in the draft"
        + (f", {left_out} only in --json (no indicator or subject fits)" if left_out else "")
    )
    if out is None:
        typer.echo(
            "# Add to sources.yaml:\n"
            + "".join(f"# {line}\n" for line in to_yaml([entry]).splitlines())
        )
        typer.echo(to_yaml(document_file), nl=False)
        return
    _write_draft(out, sid, entry, document_file, doc.text if doc.is_html else None, text_dir)


def _write_draft(
    out: Path,
    sid: str,
    entry: dict[str, object],
    document_file: dict[str, object],
    main_text: str | None,
    text_dir: Path | None,
) -> None:
    """Add the draft to a seeds directory, refusing to overwrite anything."""
    import yaml

    from .extract.drafts import to_yaml

    target = out / "documents" / f"{sid}.yaml"
    sources_file = out / "sources.yaml"
    if target.exists():
        console.print(f"[red]error:[/] {target} exists; choose another --source-id")
        raise typer.Exit(1)
    if main_text is not None and text_dir is None:
        console.print("[red]error:[/] an HTML document needs --text-dir for its main text")
        raise typer.Exit(2)
    try:
        sources = yaml.safe_load(sources_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        console.print(f"[red]error:[/] cannot read {sources_file}: {exc}")
        raise typer.Exit(1) from None
    if any(s.get("id") == sid for s in sources.get("sources", [])):
        console.print(f"[red]error:[/] source {sid!r} is already in {sources_file}")
        raise typer.Exit(1)
    if main_text is not None and text_dir is not None:
        text_dir.mkdir(parents=True, exist_ok=True)
        (text_dir / str(entry["file"])).write_text(main_text, encoding="utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(to_yaml(document_file), encoding="utf-8")
    with sources_file.open("a", encoding="utf-8") as handle:
        handle.write("\n" + "\n".join("  " + line for line in to_yaml([entry]).splitlines()) + "\n")
    console.print(f"wrote {target} and added {sid} to {sources_file}")


def main() -> None:
    cli()

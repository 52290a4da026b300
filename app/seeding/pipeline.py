"""The one way seeds reach a database, for `atlas load`, the tests and the benchmark: read
and check every file (nothing is touched when they fail), migrate, load in one transaction."""

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..db import build_engine, is_sqlite, vacuum
from ..facts.version import read_version
from ..migrate import upgrade_to_head
from .archive import (
    Keeping,
    before_load,
    for_database,
    keep_release,
    upgrade_kept,
)
from .checks import check_dataset
from .errors import SeedError
from .loader import load_dataset
from .reader import read_dataset
from .releases import LoadReport
from .spans import Verification
from .version import dataset_hash

logger = logging.getLogger("atlas")


class SeedsRejected(SeedError):
    """The seed files failed to read or check: the database was not touched."""


@dataclass
class Seeded:
    verification: Verification
    report: LoadReport
    previous_version: str  # the dataset version the database held before the load
    version: str
    kept: Path | None = None  # the release's database for pinned reads, if one was kept
    not_kept: str | None = None  # why a release's database could not be kept


def seed(
    url: str,
    seeds: Path,
    documents: Path | None,
    progress: Callable[[str], None] | None = None,
    releases: Path | None = None,
    keeping: Keeping | None = None,
) -> Seeded:
    """Read, check, migrate and load; with `releases`, a load that makes a release writes
    its files there (app.seeding.bundle), and with `keeping`, the delta back to the release
    before it (app.seeding.archive), and what is kept migrated with the database. The load
    is committed before the delta is written: a failure there is reported in `not_kept`,
    and the data stays loaded."""
    step = progress or (lambda _: None)
    step("reading seeds")
    try:
        dataset = read_dataset(seeds)
        verification = check_dataset(dataset, documents)
    except SeedError as error:
        raise SeedsRejected(error.problems) from None
    step("migrating")
    upgrade_to_head(url)
    engine = build_engine(url)
    previous = _stored_version(engine)
    # the release before, for its delta; not when the seeds are the ones loaded already
    changing = dataset_hash(dataset) != previous
    own = for_database(keeping, engine) if keeping is not None else None  # None: never loaded
    before = _before(engine, url, own) if own is not None and changing else None
    try:
        report = load_dataset(engine, dataset, lambda stage: step(f"loading {stage}"), releases)
        version = _stored_version(engine)
        if report.changed and not is_sqlite(url):
            vacuum(engine)
        seeded = Seeded(verification, report, previous, version)
        if keeping is not None:
            step("keeping the release for pinned reads")
            own = for_database(keeping, engine)  # the load generated its key
            assert own is not None
            seeded.kept, seeded.not_kept = _keep(engine, url, report, own, before)
    finally:
        engine.dispose()
        if before is not None:
            before.unlink(missing_ok=True)
    return seeded


def _before(engine: Engine, url: str, keeping: Keeping) -> Path | None:
    """The release the database holds before the load, for its delta (app.seeding.archive);
    without it the load goes on, and the release before cannot be restored."""
    try:
        return before_load(engine, url, keeping)
    except (OSError, sqlite3.Error, SQLAlchemyError) as error:
        logger.warning("cannot keep the release before this load: %s", error)
        return None


def _keep(
    engine: Engine, url: str, report: LoadReport, keeping: Keeping, before: Path | None
) -> tuple[Path | None, str | None]:
    """Keep the release the load made, and migrate what an older schema kept: where, or why
    not. The load has committed: a failure here leaves the data loaded."""
    try:
        kept = None
        if report.release is not None:
            kept = keep_release(engine, url, report.release, keeping, before)
        upgrade_kept(keeping.folder)
    except (OSError, SQLAlchemyError, sqlite3.Error) as error:
        return None, f"{error.__class__.__name__}: {error}"
    return kept, None


def _stored_version(engine: Engine) -> str:
    with engine.connect() as connection:
        return read_version(connection)

"""The one way seeds reach a database, for `atlas load`, the tests and the benchmark: read
and check every file (nothing is touched when they fail), migrate, load in one transaction."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from app.db import build_engine
from app.facts.version import read_version
from app.migrate import upgrade_to_head
from app.seeding.checks import check_dataset
from app.seeding.errors import SeedError
from app.seeding.loader import load_dataset
from app.seeding.reader import read_dataset
from app.seeding.releases import LoadReport
from app.seeding.spans import Verification


class SeedsRejected(SeedError):
    """The seed files failed to read or check: the database was not touched."""


@dataclass(frozen=True)
class Seeded:
    verification: Verification
    report: LoadReport
    previous_version: str  # the dataset version the database held before the load
    version: str


def seed(
    url: str,
    seeds: Path,
    documents: Path | None,
    progress: Callable[[str], None] | None = None,
    releases: Path | None = None,
) -> Seeded:
    """Read, check, migrate and load; with `releases`, a load that makes a release writes
    its files there (app.seeding.bundle)."""
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
    try:
        previous = _stored_version(engine)
        report = load_dataset(engine, dataset, lambda stage: step(f"loading {stage}"), releases)
        version = _stored_version(engine)
    finally:
        engine.dispose()
    return Seeded(verification, report, previous, version)


def _stored_version(engine: Engine) -> str:
    with engine.connect() as connection:
        return read_version(connection)

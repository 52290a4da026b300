"""Fixtures: every test that takes `backend` runs on SQLite and on PostgreSQL.

PostgreSQL is a real server in a throwaway cluster started here (see harness/postgres.py).
The API never writes, so one loaded database per backend serves all read tests; tests
that write get a fresh database each.
"""

import atexit
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlalchemy.engine import make_url

from app.config import PROJECT_ROOT, Settings
from harness.browser import chromium
from harness.postgres import PostgresCluster
from harness.server import running_server

warnings.filterwarnings("ignore", message=".*httpx.*starlette.testclient.*")
from fastapi.testclient import TestClient  # noqa: E402

from app.main import create_app  # noqa: E402
from app.seeding.pipeline import seed  # noqa: E402

FULL_SEEDS = PROJECT_ROOT / "seeds"
DOCUMENTS = PROJECT_ROOT.parent / "shared" / "seeds"


def _curated_only() -> Path:
    """The seeds without the official tables: the facts curated from the documents.

    The engine's tests (filters, pages, rankings, series, conflicts, caches, faults) were
    written against these few dozen facts, whose every value a test can name; the tables'
    24k values are tested on a full load in tests/test_tables.py, on both engines.
    """
    folder = Path(tempfile.mkdtemp(prefix="atlas-curated-seeds-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    shutil.copytree(FULL_SEEDS, folder / "seeds", ignore=shutil.ignore_patterns("tables*"))
    return folder / "seeds"


SEEDS = _curated_only()
_sqlite_counter = itertools.count()


def _private_releases() -> None:
    """Every `atlas load` the tests run, in process or as a command, writes its release files
    and keeps its releases' databases in folders of the run's own, not in the checkout's
    var/releases and var/archives."""
    for name in ("ATLAS_RELEASES_DIR", "ATLAS_ARCHIVES_DIR"):
        if name not in os.environ:
            folder = tempfile.mkdtemp(prefix=f"atlas-test-{name[6:-4].lower()}-")
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            os.environ[name] = folder


_private_releases()
# A pinned request waits for its release's restore however long a loaded machine takes: the
# tests that pin a kept release expect its answer, not the 503 past the default 2 s wait
# (tests/test_past_releases.py tries that one with no wait).
os.environ.setdefault("ATLAS_RESTORE_WAIT_MS", "120000")


@dataclass
class Backend:
    name: str
    tmp: Path
    cluster: PostgresCluster | None

    def new_database(self) -> str:
        if self.cluster is None:
            return f"sqlite:///{self.tmp / f'atlas-{next(_sqlite_counter)}.db'}"
        return self.cluster.url(self.cluster.create_database())


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    with PostgresCluster() as cluster:
        yield cluster


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        return Backend("sqlite", tmp, None)
    return Backend("postgresql", tmp, request.getfixturevalue("postgres"))


def documents_dir() -> Path | None:
    return DOCUMENTS if DOCUMENTS.is_dir() else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `documents` read the source documents, which live beside the
    repository (../shared/seeds), not in it: without them they are skipped, saying why."""
    if DOCUMENTS.is_dir():
        return
    skip = pytest.mark.skip(reason=f"needs the source documents in {DOCUMENTS}")
    for item in items:
        if item.get_closest_marker("documents") is not None:
            item.add_marker(skip)


def load_seeds(url: str, seeds: Path = SEEDS) -> None:
    seed(url, seeds, documents_dir())


@pytest.fixture(scope="session")
def loaded_url(backend: Backend) -> str:
    url = backend.new_database()
    load_seeds(url)
    return url


@pytest.fixture
def empty_url(backend: Backend) -> str:
    return backend.new_database()


READER_ROLE = "atlas_reader"


@pytest.fixture(scope="session")
def reader_url(backend: Backend, loaded_url: str) -> str:
    """The URL the API serves from, as in production: on PostgreSQL a role that may only
    SELECT, given its grants by `atlas grant-reader` run as the owner."""
    if backend.cluster is None:
        return loaded_url
    backend.cluster.execute(
        f"DO $$ BEGIN CREATE ROLE {READER_ROLE} LOGIN;"
        " EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    )
    subprocess.run(
        [sys.executable, "-m", "app", "grant-reader", READER_ROLE],
        env={**os.environ, "DATABASE_URL": loaded_url}, cwd=PROJECT_ROOT,
        check=True, capture_output=True,
    )  # fmt: skip
    return make_url(loaded_url).set(username=READER_ROLE).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def client(reader_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=reader_url))
    with TestClient(app) as test_client:
        yield test_client


# Figures the suite measures (fuzzing, hostile requests), printed at the end of the run.
FIGURES: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from harness.hostile import TALLY, report

    lines = FIGURES + (report(TALLY) if TALLY else [])
    if lines:
        terminalreporter.section("robustness figures")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="module")
def server(reader_url: str) -> Iterator[str]:
    """An `atlas serve` process on the loaded database, for one module's tests."""
    with running_server(reader_url) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for a module's tests that drive a page. Not kept for the
    session: Playwright's synchronous API keeps an event loop running in the main thread
    while it lives, and later tests that call asyncio.run() would find it."""
    with chromium() as launched:
        yield launched

"""Past releases stay queryable: a load keeps the database as each release stood, so a
request pinned to a kept release (`version=`, `as_of=`, a cursor's walk) answers exactly as
it did, whatever was loaded since; a release older than those kept is a 410 naming the
oldest kept. On both engines, over HTTP, with loads run by the pipeline `atlas load` uses.
"""

import gzip
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlmodel import SQLModel

from app.archives import Restorer, StillRestoring
from app.config import Settings
from app.db import build_engine, is_sqlite
from app.main import create_app
from app.migrate import alembic_config, head_revision
from app.seeding.archive import (
    RESTORED,
    Keeping,
    archive_path,
    for_database,
    kept_versions,
    restore,
    restored_versions,
    revision_of,
)
from app.seeding.copies import copy_to_sqlite
from app.seeding.pipeline import Seeded, seed
from tests.conftest import SEEDS

API = "/api/v1"
TITLE = "Sci-tech Innovation Energizes Mining City in Hubei"
SOURCE = f"{API}/sources/std-2024-03-25-daye"
PINNED = (  # a list, a filtered list with its total, a record, a nested list
    f"{API}/metrics?limit=4&sort=-value&count=true",
    f"{API}/sources?limit=3",
    SOURCE,
    f"{API}/places/hefei/metrics?limit=2",
)


class Reloads:
    """A copy of the seeds, loaded again with the source's title changed each time."""

    def __init__(self, url: str, folder: Path, keep: int) -> None:
        self.url = url
        self.seeds = folder / "seeds"
        shutil.copytree(SEEDS, self.seeds)
        self.keeping = Keeping(folder / "archives", keep)
        self.title = TITLE
        self.loads = 0

    def load(self) -> Seeded:
        if self.loads:
            sources = self.seeds / "sources.yaml"
            new = f"{TITLE} (edition {self.loads + 1})"
            text = sources.read_text(encoding="utf-8")
            sources.write_text(text.replace(f"title: {self.title}\n", f"title: {new}\n"))
            self.title = new
        self.loads += 1
        seeded = seed(self.url, self.seeds, None, keeping=self.keeping)
        assert seeded.not_kept is None
        return seeded

    @property
    def folder(self) -> Path:
        """Where this database's releases are kept (a folder of the archives named for it)."""
        engine = build_engine(self.url)
        try:
            own = for_database(self.keeping, engine)
        finally:
            engine.dispose()
        assert own is not None
        return own.folder

    def client(self, **settings: Any) -> TestClient:
        return TestClient(create_app(Settings(
            database_url=self.url, archives_dir=self.keeping.folder, version_refresh_ms=50,
            **settings,
        )))  # fmt: skip


@pytest.fixture
def reloads(empty_url: str, tmp_path: Path) -> Reloads:
    return Reloads(empty_url, tmp_path, keep=11)


@pytest.fixture
def live(reloads: Reloads) -> Iterator[TestClient]:
    reloads.load()
    with reloads.client() as client:
        yield client


def bodies(client: TestClient, version: str) -> list[Any]:
    answers = []
    for url in PINNED:
        response = client.get(f"{url}{'&' if '?' in url else '?'}version={version}")
        assert response.status_code == 200, (url, response.text)
        assert response.headers["x-atlas-dataset-version"].startswith(version)
        answers.append(response.json())
    return answers


def test_a_pinned_request_answers_the_same_after_ten_loads(
    reloads: Reloads, live: TestClient
) -> None:
    first = live.get(SOURCE).headers["x-atlas-dataset-version"]
    before = bodies(live, first)
    versions = [first]
    for _ in range(10):
        versions.append(reloads.load().version)
    assert len(set(versions)) == 11
    assert live.get(SOURCE).json()["title"] == reloads.title  # the current one moved on
    assert bodies(live, first) == before
    assert bodies(live, first[:16]) == before  # as a citation prints it
    middle = versions[5]
    assert live.get(f"{SOURCE}?version={middle}").json()["title"] == f"{TITLE} (edition 6)"
    assert sorted(kept_versions(reloads.folder)) == sorted(versions)


def test_a_walk_goes_on_across_loads(reloads: Reloads, live: TestClient) -> None:
    first = live.get(f"{API}/places?limit=40")
    version = first.headers["x-atlas-dataset-version"]
    seen = [place["slug"] for place in first.json()["data"]]
    reloads.load()
    reloads.load()
    page = first.json()
    while page["links"].get("next"):
        response = live.get(page["links"]["next"])
        assert response.status_code == 200, response.text
        assert response.headers["x-atlas-dataset-version"] == version
        page = response.json()
        seen += [place["slug"] for place in page["data"]]
    whole = live.get(f"{API}/places?limit=500&version={version}").json()
    walked_at_once = [p["slug"] for p in whole["data"]]
    assert seen[: len(walked_at_once)] == walked_at_once
    assert len(seen) == len(set(seen))


def test_as_of_answers_as_published_at_that_moment(reloads: Reloads, live: TestClient) -> None:
    first = live.get(SOURCE).headers["x-atlas-dataset-version"]
    time.sleep(0.05)
    between = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    time.sleep(0.05)
    second = reloads.load().version
    then = live.get(f"{SOURCE}?as_of={between}")
    assert then.status_code == 200, then.text
    assert then.headers["x-atlas-dataset-version"] == first
    assert then.json()["title"] == TITLE
    today = live.get(f"{SOURCE}?as_of={datetime.now(UTC).date().isoformat()}")
    assert today.headers["x-atlas-dataset-version"] == second
    listed = live.get(f"{API}/sources?limit=2&as_of={between}")
    assert listed.status_code == 200
    assert listed.headers["x-atlas-dataset-version"] == first

    early = live.get(f"{SOURCE}?as_of=2001-01-01")
    assert early.status_code == 422
    problem = early.json()
    assert problem["errors"][0]["parameter"] == "as_of"
    assert "no release had been published by 2001-01-01" in problem["detail"]
    assert first[:16] in problem["detail"]  # the first release, named
    for bad in ("yesterday", "2026-13-01", "2026-12-01T08:00", "2026-12-01 08:00Z"):
        refused = live.get(f"{SOURCE}?as_of={bad}")
        assert refused.status_code == 422, bad
        assert refused.json()["errors"][0]["parameter"] == "as_of"
    both = live.get(f"{SOURCE}?as_of=2026-12-01&version={first}")
    assert both.status_code == 422
    assert "not both" in both.json()["detail"]


def test_a_release_no_longer_kept_is_a_410_naming_the_oldest_kept(
    empty_url: str, tmp_path: Path
) -> None:
    reloads = Reloads(empty_url, tmp_path, keep=2)
    versions = [reloads.load().version for _ in range(3)]
    assert sorted(kept_versions(reloads.folder)) == sorted(versions[1:])
    with reloads.client() as client:
        page = client.get(f"{API}/places?limit=40&version={versions[1]}")
        assert page.status_code == 200
        reloads.load()  # versions[1] is no longer kept
        for url, parameter in (
            (f"{SOURCE}?version={versions[0][:16]}", "version"),
            (f"{API}/places?limit=5&version={versions[0]}", "version"),
            (page.json()["links"]["next"], "cursor"),
        ):
            gone = client.get(url)
            assert gone.status_code == 410, (url, gone.text)
            assert gone.headers["content-type"] == "application/problem+json"
            problem = gone.json()
            assert problem["type"] == "/problems/version-retired"
            assert problem["title"] == "Dataset version no longer kept"
            assert problem["errors"][0]["parameter"] == parameter
            assert f"the oldest kept is {versions[2][:16]}" in problem["detail"]
        kept = client.get(f"{SOURCE}?version={versions[2]}")
        assert kept.status_code == 200
        never = client.get(f"{SOURCE}?version={'0' * 16}")
        assert never.status_code == 409  # never a release here: not retired, just not served
        assert never.json()["type"] == "/problems/version-gone"


def test_a_restore_longer_than_the_wait_is_a_503_then_the_release(
    empty_url: str, tmp_path: Path
) -> None:
    """No request waits out a restore: past `ATLAS_RESTORE_WAIT_MS` (here none at all) the
    pin answers 503 with Retry-After, the restore goes on, and a later request gets the
    release."""
    reloads = Reloads(empty_url, tmp_path, keep=3)
    first = reloads.load().version
    reloads.load()
    with reloads.client(restore_wait_ms=0) as client:
        restoring = client.get(f"{SOURCE}?version={first}")
        assert restoring.status_code == 503, restoring.text
        assert restoring.headers["content-type"] == "application/problem+json"
        assert restoring.headers["retry-after"].isdigit()
        problem = restoring.json()
        assert problem["type"] == "/problems/release-restoring"
        assert problem["detail"].startswith(f"version: release {first} is being restored")
        deadline = time.monotonic() + 60
        while (answer := client.get(f"{SOURCE}?version={first}")).status_code == 503:
            assert answer.json()["type"] == "/problems/release-restoring"
            assert time.monotonic() < deadline, "the restore never finished"
            time.sleep(0.05)
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-atlas-dataset-version"] == first
        assert answer.json()["title"] == TITLE


def test_restores_run_one_at_a_time_and_a_full_queue_refuses() -> None:
    restorer = Restorer()
    release = threading.Event()
    started: list[str] = []

    def work(name: str) -> Callable[[], None]:
        def restoring() -> None:
            started.append(name)
            release.wait(30)

        return restoring

    try:
        with pytest.raises(StillRestoring, match="release a is being restored"):
            restorer.run("a", work("a"), wait=0.05)
        for queued in ("b", "c"):
            with pytest.raises(StillRestoring, match=f"release {queued} waits its turn"):
                restorer.run(queued, work(queued), wait=0)
        with pytest.raises(StillRestoring, match="release d waits its turn"):
            restorer.run("d", work("d"), wait=0)  # past the queue: refused, never started
        with pytest.raises(StillRestoring, match="release a is being restored"):
            restorer.run("a", work("again"), wait=0)  # the same restore, not a second
        assert started == ["a"]
        release.set()
        deadline = time.monotonic() + 30
        while started != ["a", "b", "c"] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert started == ["a", "b", "c"]  # in turn; d never
        restorer.run("e", work("e"), wait=30)  # the queue has room again
        assert started == ["a", "b", "c", "e"]
    finally:
        release.set()
        restorer.shutdown()


def test_a_copy_a_killed_load_left_half_written_is_removed(empty_url: str, tmp_path: Path) -> None:
    reloads = Reloads(empty_url, tmp_path, keep=2)
    first = reloads.load().version
    folder = reloads.folder
    dead = folder / f".{'a' * 64}.999999999.partial"  # no process has that id
    alive = folder / f".{'b' * 64}.{os.getpid()}.partial"  # a load still copying
    dead.write_bytes(b"half a database")
    alive.write_bytes(b"half a database")
    reloads.load()
    assert not dead.exists()
    assert alive.exists()
    assert first in kept_versions(folder)


def test_a_release_kept_by_an_older_schema_is_served_once_a_load_migrates_it(
    empty_url: str, tmp_path: Path
) -> None:
    reloads = Reloads(empty_url, tmp_path, keep=3)
    first = reloads.load().version
    # retracted: the delta holds the document's facts, not the places they point at
    (reloads.seeds / "documents" / "std-2024-03-25-daye.yaml").unlink()
    reloads.load()
    (kept,) = reloads.folder.glob(f"{first}.*.delta.gz")  # what goes back to it
    rows = tmp_path / "delta.sqlite"
    rows.write_bytes(gzip.decompress(kept.read_bytes()))
    older = alembic_config(f"sqlite:///{rows}")
    older.attributes["partial"] = True
    command.downgrade(older, "-1")  # as an older release wrote it
    assert revision_of(rows) != head_revision()
    kept.write_bytes(gzip.compress(rows.read_bytes()))
    with reloads.client() as client:
        aside = client.get(f"{SOURCE}?version={first}")
        assert aside.status_code == 410  # not served: the API's statements need the head
        again = seed(reloads.url, reloads.seeds, None, keeping=reloads.keeping)
        assert again.report.release is None  # nothing changed, yet the kept one is migrated
        rows.write_bytes(gzip.decompress(kept.read_bytes()))
        assert revision_of(rows) == head_revision()
        served = client.get(f"{SOURCE}?version={first}")
        assert served.status_code == 200, served.text
        assert served.json()["title"] == TITLE


def as_it_stands(url: str, target: Path) -> Path:
    """The database as a SQLite file, taken whole: what a restored release must equal."""
    if is_sqlite(url):
        with (
            closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as source,
            closing(sqlite3.connect(target)) as copy,
        ):
            source.backup(copy)
    else:
        engine = build_engine(url)
        try:
            copy_to_sqlite(engine, target)
        finally:
            engine.dispose()
    return target


def every_row(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as database:
        return {
            table.name: sorted(database.execute(f'SELECT * FROM "{table.name}"'), key=repr)
            for table in SQLModel.metadata.sorted_tables
        }


def test_a_restored_release_holds_every_row_as_it_stood(empty_url: str, tmp_path: Path) -> None:
    """Rows changed, retracted and added again under new ids: each release restored from the
    deltas equals, table by table and row by row, the database as that release stood, and
    nothing but the rows that changed is stored for it."""
    reloads = Reloads(empty_url, tmp_path, keep=5)
    document = reloads.seeds / "documents" / "std-2024-03-25-daye.yaml"
    text = document.read_text(encoding="utf-8")
    stood: dict[str, Path] = {}

    def load(number: int) -> None:
        version = reloads.load().version  # each load changes a title too
        stood[version] = as_it_stands(empty_url, tmp_path / f"{number}.sqlite")

    load(1)
    document.unlink()
    load(2)  # the document's facts retracted
    document.write_text(text, encoding="utf-8")
    load(3)  # back, under new ids
    reloads.load()  # the three before are all in the past
    folder = reloads.folder
    assert restored_versions(folder) == []  # at rest, no whole database of a past release
    whole = (tmp_path / "1.sqlite").stat().st_size
    for delta in folder.glob("*.delta.gz"):
        assert delta.stat().st_size < whole / 4, delta.name
    for version, path in stood.items():
        restored = restore(folder, version, empty_url)
        assert restored == archive_path(folder, version)
        assert every_row(restored) == every_row(path), version[:16]
    assert len(restored_versions(folder)) == min(len(stood), RESTORED)
    with reloads.client() as client:
        first = next(iter(stood))
        assert client.get(f"{SOURCE}?version={first}").json()["title"] == TITLE
        searched = client.get(f"{API}/search?q=daye&version={first}")
        assert searched.status_code == 200, searched.text
        assert searched.json()["data"], "the restored search index finds the document's place"

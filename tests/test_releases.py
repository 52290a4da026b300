"""Releases: every load that changes the data records one, with its counts and a change
log by natural key, served by `/releases` and `/changes`; a load that changes nothing
records none. On both engines, over HTTP."""

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from app.api.releases import Change, ReleaseDetail
from app.config import Settings
from app.db import build_engine
from app.main import create_app
from app.models import tables as t
from app.seeding.pipeline import Seeded, seed
from harness.state import dump
from tests.conftest import SEEDS

API = "/api/v1"
PILOT = "documents/std-2024-04-18-manufacturing-pilot.yaml"
DAYE = "documents/std-2024-03-25-daye.yaml"


def edit(path: Path, old: str, new: str) -> None:
    content = path.read_text(encoding="utf-8")
    assert old in content, f"{old!r} not in {path}"
    path.write_text(content.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    copy = tmp_path / "seeds"
    shutil.copytree(SEEDS, copy)
    return copy


@pytest.fixture
def reloaded(empty_url: str, seeds: Path) -> tuple[str, Seeded, Seeded, Seeded]:
    """Loaded, loaded again unchanged, then with a value changed, a cluster renamed (its old
    slug retracted, its new one added) and an organization's description edited."""
    first = seed(empty_url, seeds, None)
    again = seed(empty_url, seeds, None)
    edit(seeds / PILOT, "value: 300000000\n", "value: 250000000\n")
    edit(seeds / PILOT, 'stated: "300 million RMB"', 'stated: "250 million RMB"')
    edit(seeds / PILOT, 'quote: "no more than 300 million', 'quote: "no more than 250 million')
    edit(seeds / DAYE, "slug: daye-aluminum-profile\n", "slug: daye-aluminium-profiles\n")
    return empty_url, first, again, seed(empty_url, seeds, None)


@pytest.fixture
def client(reloaded: tuple[str, Seeded, Seeded, Seeded]) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=reloaded[0]))) as test_client:
        yield test_client


def test_a_load_that_changes_nothing_records_no_release(
    reloaded: tuple[str, Seeded, Seeded, Seeded],
) -> None:
    url, first, again, changed = reloaded
    assert first.report.release == first.version
    assert again.report.release is None
    assert changed.report.release == changed.version != first.version
    assert len(dump(url)["release"]) == 2


def test_the_first_release_counts_what_it_added_without_listing_it(
    reloaded: tuple[str, Seeded, Seeded, Seeded], client: TestClient
) -> None:
    first = reloaded[1]
    release = client.get(f"{API}/releases/{first.version}").json()
    ReleaseDetail.model_validate(release)
    assert release["previous_version"] is None
    assert release["number"] == 1
    tables = {table["name"]: table for table in release["tables"]}
    assert tables["observation"] == {"name": "observation", "rows": 36, "added": 36,
                                     "changed": 0, "retracted": 0, "listed": False}  # fmt: skip
    assert tables["place"]["rows"] == tables["place"]["added"] == 3249
    assert not any(table["listed"] for table in tables.values())
    assert client.get(f"{API}/releases/{first.version}/changes").json()["data"] == []


def test_a_release_says_what_changed_by_natural_key(
    reloaded: tuple[str, Seeded, Seeded, Seeded], client: TestClient
) -> None:
    _, first, _, changed = reloaded
    listed = client.get(f"{API}/releases").json()["data"]
    assert [r["version"] for r in listed] == [changed.version, first.version]  # newest first
    release = client.get(f"{API}/releases/{changed.version[:12]}")  # a unique prefix
    assert release.status_code == 200
    body = release.json()
    assert body["version"] == changed.version
    assert body["previous_version"] == first.version
    ReleaseDetail.model_validate(body)
    tables = {table["name"]: table for table in body["tables"]}
    assert tables["cluster"] == {"name": "cluster", "rows": 21, "added": 1, "changed": 0,
                                 "retracted": 1, "listed": True}  # fmt: skip
    assert not tables["place_ancestor"]["listed"]  # derived from the places: counted only
    assert tables["observation"]["changed"] == 1
    changes = client.get(body["links"]["changes"]).json()["data"]
    for item in changes:
        Change.model_validate(item)
    assert [(c["table"], c["key"], c["kind"], c["field"], c["old"], c["new"]) for c in changes] == [
        ("cluster", "daye-aluminium-profiles", "added", None, None, None),
        ("cluster", "daye-aluminum-profile", "retracted", None, None, None),
        ("observation", "manufacturing-pilot-max-grant", "changed", "value", "300000000.0",
         "250000000.0"),
        ("observation", "manufacturing-pilot-max-grant", "changed", "stated", "300 million RMB",
         "250 million RMB"),
        ("observation", "manufacturing-pilot-max-grant", "changed", "quote",
         "no more than 300 million RMB in total", "no more than 250 million RMB in total"),
    ]  # fmt: skip
    retracted = client.get(f"{API}/changes?kind=retracted").json()["data"]
    assert [(c["release"], c["key"]) for c in retracted] == [
        (changed.version, "daye-aluminum-profile")
    ]
    history = client.get(f"{API}/changes?table=observation&key=manufacturing-pilot-max-grant")
    assert [c["field"] for c in history.json()["data"]] == ["value", "stated", "quote"]
    exported = client.get(f"{API}/releases/{changed.version}/changes?format=csv&table=cluster")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(row["release"], row["key"], row["kind"]) for row in rows] == [
        (changed.version, "daye-aluminium-profiles", "added"),
        (changed.version, "daye-aluminum-profile", "retracted"),
    ]
    ndjson = client.get(f"{API}/releases/{changed.version}/changes?kind=changed&format=ndjson")
    assert ndjson.headers["content-type"].startswith("application/x-ndjson")
    assert len(ndjson.text.splitlines()) == 3


def test_a_reference_is_logged_by_the_key_of_what_it_refers_to(empty_url: str, seeds: Path) -> None:
    seed(empty_url, seeds, None)
    edit(seeds / DAYE, "    place: daye\n    description: >-\n      Leading aluminum",
         "    place: hubei\n    description: >-\n      Leading aluminum")  # fmt: skip
    changed = seed(empty_url, seeds, None)
    with TestClient(create_app(Settings(database_url=empty_url))) as client:
        body = client.get(f"{API}/releases/{changed.version}/changes").json()
    assert [(c["key"], c["field"], c["old"], c["new"]) for c in body["data"]] == [
        ("daye-aluminum-profile", "place", "daye", "hubei")
    ]


@pytest.mark.parametrize(
    ("version", "why"),
    [
        ("0123456789ab", "no release '0123456789ab'"),
        ("63ec60bb23e", "no release '63ec60bb23e'"),  # 11 digits: too short to name one
        ("x" * 65, "'" + "x" * 65 + "'"),
    ],
)
def test_an_unknown_release_is_a_404_naming_the_parameter(
    client: TestClient, version: str, why: str
) -> None:
    response = client.get(f"{API}/releases/{version}")
    assert response.status_code == 404
    problem: dict[str, Any] = response.json()
    assert problem["errors"][0]["parameter"] == "release"
    assert why in problem["detail"]
    assert client.get(f"{API}/releases/{version}/changes").status_code == 404


def test_a_database_loaded_before_releases_were_recorded_gets_its_release(
    empty_url: str, seeds: Path
) -> None:
    """Loaded when no release was recorded (before the schema had releases, 0010): the next
    load, though it changes nothing, records the release the database holds, with nothing
    listed as changed. The release rows are removed rather than the schema taken back to
    0009, which would also drop every table added since, and the rows a load puts there."""
    loaded = seed(empty_url, seeds, None)
    engine = build_engine(empty_url)
    try:
        with engine.begin() as connection:
            for table in (t.release_change, t.release_table, t.release_source, t.release_file,
                          t.release):  # fmt: skip
                connection.execute(delete(table))
    finally:
        engine.dispose()
    again = seed(empty_url, seeds, None)
    assert not again.report.changed
    assert again.report.release == again.version == loaded.version
    with TestClient(create_app(Settings(database_url=empty_url))) as client:
        release = client.get(f"{API}/releases/{again.version}").json()
        assert release["previous_version"] is None
        assert all(t["added"] == t["changed"] == t["retracted"] == 0 for t in release["tables"])
        assert client.get(release["links"]["changes"]).json()["data"] == []
    assert seed(empty_url, seeds, None).report.release is None  # and then none again


def test_a_load_that_brings_back_an_earlier_release_is_the_newest(
    empty_url: str, seeds: Path
) -> None:
    first = seed(empty_url, seeds, None)
    edit(seeds / DAYE, "slug: daye-aluminum-profile\n", "slug: daye-aluminium-profiles\n")
    second = seed(empty_url, seeds, None)
    edit(seeds / DAYE, "slug: daye-aluminium-profiles\n", "slug: daye-aluminum-profile\n")
    back = seed(empty_url, seeds, None)
    assert back.version == first.version != second.version
    with TestClient(create_app(Settings(database_url=empty_url))) as client:
        listed = client.get(f"{API}/releases").json()["data"]
        assert [(r["version"], r["number"], r["previous_version"]) for r in listed] == [
            (first.version, 3, second.version),
            (second.version, 2, first.version),
        ]
        changes = client.get(f"{API}/releases/{first.version}/changes").json()["data"]
    assert [(c["key"], c["kind"]) for c in changes] == [
        ("daye-aluminum-profile", "added"),
        ("daye-aluminium-profiles", "retracted"),
    ]


def test_a_load_whose_files_cannot_be_written_keeps_nothing(
    empty_url: str, seeds: Path, tmp_path: Path
) -> None:
    blocked = tmp_path / "releases"
    blocked.write_text("a file where the releases directory should be")
    with pytest.raises(OSError, match="releases"):
        seed(empty_url, seeds, None, None, blocked)
    state = dump(empty_url)
    assert state["release"] == state["observation"] == state["dataset_version"] == []

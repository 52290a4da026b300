"""The release as files: written once at load time, opened as they are by pandas, DuckDB
and Datasette, and served as static files (ETag, Range, HEAD) without a query."""

import asyncio
import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from datasette.app import Datasette  # type: ignore[import-untyped]
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.query.statements import recording
from app.seeding.loader import ORDER
from app.seeding.pipeline import seed
from tests.conftest import SEEDS, Backend

API = "/api/v1"


@dataclass(frozen=True)
class Released:
    url: str
    version: str
    folder: Path
    client: TestClient


@pytest.fixture(scope="module")
def released(backend: Backend) -> Iterator[Released]:
    url = backend.new_database()
    releases = backend.tmp / f"releases-{url.rsplit('/', 1)[-1]}"
    version = seed(url, SEEDS, None, None, releases).version
    settings = Settings(database_url=url, releases_dir=releases)
    with TestClient(create_app(settings)) as client:
        yield Released(url, version, releases / version, client)


def package(released: Released) -> dict[str, Any]:
    described: dict[str, Any] = json.loads((released.folder / "datapackage.json").read_text())
    return described


def test_the_files_are_listed_with_their_sizes_and_checksums(released: Released) -> None:
    listing = released.client.get(f"{API}/releases/{released.version[:12]}/download").json()
    on_disk = {p.name: p.read_bytes() for p in released.folder.iterdir()}
    assert {f["name"] for f in listing["files"]} == set(on_disk) >= {
        "atlas.sqlite", "atlas-csv.zip", "datapackage.json", "SHA256SUMS", "observation.parquet",
        "place.parquet", "cluster.parquet", "source.parquet", "indicator.parquet",
    }  # fmt: skip
    for item in listing["files"]:
        data = on_disk[item["name"]]
        assert item["bytes"] == len(data)
        assert item["sha256"] == hashlib.sha256(data).hexdigest()
        served = released.client.get(item["url"])
        assert served.status_code == 200
        assert served.content == data
        assert served.headers["etag"] == f'"{item["sha256"]}"'
    for line in on_disk["SHA256SUMS"].decode().splitlines():  # as `sha256sum -c` reads it
        digest, name = line.split("  ")
        assert hashlib.sha256(on_disk[name]).hexdigest() == digest
    for resource in package(released)["resources"]:
        data = on_disk[resource["path"]]
        assert resource["bytes"] == len(data)
        assert resource["hash"] == f"sha256:{hashlib.sha256(data).hexdigest()}"
    release = released.client.get(f"{API}/releases/{released.version}").json()
    assert release["download"] == f"{API}/releases/{released.version}/download"
    assert released.client.get("/").json()["download"] == release["download"]


def test_the_package_describes_fields_types_units_and_sources(released: Released) -> None:
    described = package(released)
    resources = {r["name"]: r for r in described["resources"]}
    fields = {f["name"]: f for f in resources["observation"]["schema"]["fields"]}
    assert fields["value"]["type"] == "number"
    assert "unit" in fields["value"]["description"]
    assert "CNY" in fields["unit"]["constraints"]["enum"]
    assert fields["period_end"]["type"] == "date"
    assert fields["derived"]["type"] == "boolean"
    assert {
        "fields": ["indicator_id"],
        "reference": {"resource": "indicator", "fields": ["id"]},
    } in (resources["observation"]["schema"]["foreignKeys"])
    assert len(described["sources"]) == 8  # the documents, tables and references loaded
    assert described["version"] == released.version


PARSERS: dict[str, Callable[[str], Any]] = {
    "integer": int, "number": float, "boolean": lambda s: s == "true",
    "date": date.fromisoformat, "string": str,
}  # fmt: skip


def _typed(kind: str, text: str) -> Any:
    return None if text == "" else PARSERS[kind](text)


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value.item() if hasattr(value, "item") else value


def test_pandas_reads_each_parquet_file_equal_to_its_csv(released: Released) -> None:
    resources = [r for r in package(released)["resources"] if r["format"] == "parquet"]
    assert [r["name"] for r in resources] == list(ORDER)  # every loaded table, in load order
    with zipfile.ZipFile(released.folder / "atlas-csv.zip") as bundle:
        for resource in resources:
            name, fields = resource["name"], resource["schema"]["fields"]
            frame = pd.read_parquet(released.folder / resource["path"])
            text = pd.read_csv(bundle.open(f"{name}.csv"), dtype=str, keep_default_na=False)
            assert list(frame.columns) == list(text.columns) == [f["name"] for f in fields]
            parquet_rows = [[_plain(v) for v in row] for row in frame.astype(object).values]
            csv_rows = [
                [_typed(f["type"], v) for f, v in zip(fields, row, strict=True)]
                for row in text.values.tolist()
            ]
            assert parquet_rows == csv_rows, name
            assert len(parquet_rows) > 0, name  # every table, the former codes too


def test_duckdb_reads_the_parquet_files(released: Released) -> None:
    folder = released.folder
    ((count, total, units),) = (
        duckdb.connect()
        .execute(
            f"SELECT count(*), sum(o.value), count(DISTINCT i.unit)"
            f" FROM '{folder / 'observation.parquet'}' o"
            f" JOIN '{folder / 'indicator.parquet'}' i ON i.id = o.indicator_id"
            f" WHERE o.unit = i.unit"
        )
        .fetchall()
    )
    page = released.client.get(f"{API}/metrics?fields=value&limit=500&count=true").json()
    assert count == page["meta"]["total"] == 36
    assert total == pytest.approx(sum(item["value"] for item in page["data"]))
    assert units > 1


def test_the_sqlite_file_opens_in_datasette_with_the_rows_the_api_serves(
    released: Released,
) -> None:
    async def query() -> list[dict[str, Any]]:
        datasette = Datasette([str(released.folder / "atlas.sqlite")], immutables=[])
        sql = "select key, value from observation order by key"
        response = await datasette.client.get(f"/atlas.json?sql={sql}&_shape=array")
        assert response.status_code == 200
        rows: list[dict[str, Any]] = response.json()
        return rows

    rows = asyncio.run(query())
    api = released.client.get(f"{API}/metrics?fields=key,value&sort=key&limit=100").json()
    assert rows == api["data"]
    assert len(rows) == 36


def test_a_range_request_returns_the_exact_bytes(released: Released) -> None:
    url = f"{API}/releases/{released.version}/download/atlas.sqlite"
    data = (released.folder / "atlas.sqlite").read_bytes()
    part = released.client.get(url, headers={"Range": "bytes=100-1123"})
    assert part.status_code == 206
    assert part.content == data[100:1124]
    assert part.headers["content-range"] == f"bytes 100-1123/{len(data)}"
    tail = released.client.get(url, headers={"Range": "bytes=-10"})
    assert tail.content == data[-10:]
    etag = part.headers["etag"]
    assert released.client.get(url, headers={"If-None-Match": etag}).status_code == 304
    beyond = released.client.get(url, headers={"Range": f"bytes={len(data) + 5}-"})
    assert beyond.status_code == 416


def test_a_head_runs_no_query(released: Released) -> None:
    url = f"{API}/releases/{released.version[:16]}/download/observation.parquet"
    size = (released.folder / "observation.parquet").stat().st_size
    with recording() as ran:
        head = released.client.head(url)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(size)
    assert head.headers["accept-ranges"] == "bytes"
    assert head.content == b""
    assert ran == []
    with recording() as ran:  # the listing reads the database (the recording works)
        assert released.client.head(f"{API}/releases/{released.version}/download").is_success
    assert ran


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("0123456789abcdef/download/atlas.sqlite", "release"),
        ("63ec60bb23e/download/atlas.sqlite", "release"),  # 11 digits
        ("{version}/download/nothing.parquet", "file"),
        ("{version}/download/..%2F..%2Fatlas.db", None),  # no route: the path leaves the file
        ("{version}/download/.hidden", "file"),
    ],
)
def test_what_names_no_file_is_a_404_naming_the_parameter(
    released: Released, path: str, parameter: str | None
) -> None:
    response = released.client.get(f"{API}/releases/{path.format(version=released.version)}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    if parameter is not None:
        assert response.json()["errors"][0]["parameter"] == parameter


def test_a_load_that_changes_nothing_writes_no_files(released: Released) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in released.folder.iterdir()}
    seed(released.url, SEEDS, None, None, released.folder.parent)
    assert {p.name: p.stat().st_mtime_ns for p in released.folder.iterdir()} == before
    assert [p.name for p in released.folder.parent.iterdir()] == [released.version]


def test_csv_bundle_carries_its_own_package(released: Released) -> None:
    with zipfile.ZipFile(released.folder / "atlas-csv.zip") as bundle:
        described = json.loads(bundle.read("datapackage.json"))
        for resource in described["resources"]:
            data = bundle.read(resource["path"])
            assert resource["hash"] == f"sha256:{hashlib.sha256(data).hexdigest()}"
            header = next(csv.reader(io.StringIO(data.decode("utf-8"))))
            assert header == [f["name"] for f in resource["schema"]["fields"]]


def test_a_file_is_served_as_written_whatever_the_client_accepts(released: Released) -> None:
    url = f"{API}/releases/{released.version}/download/atlas-csv.zip"
    data = (released.folder / "atlas-csv.zip").read_bytes()
    served = released.client.get(
        url, headers={"Accept": "application/zip", "Accept-Encoding": "gzip"}
    )
    assert served.status_code == 200
    assert "content-encoding" not in served.headers  # no gzip over a zip
    assert served.headers["content-length"] == str(len(data))
    assert served.content == data

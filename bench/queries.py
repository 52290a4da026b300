"""The six benchmark queries, written three ways (Atlas, Datasette, the ceiling), and how
to read the row identities out of each answer so the comparison is checked to be fair."""

import sqlite3
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.datastructures import QueryParams

from app.api.metrics import METRIC_SPEC
from app.config import Settings
from app.facts.version import UNVERSIONED
from app.query import parse_query
from app.query.cursors import encode_cursor
from app.query.statements import recording

METRICS_PATH = "/api/v1/metrics"

PAGE = 50
DEEP_PAGES = 2000


@dataclass(frozen=True)
class Fixture:
    """Values the queries need, read from the synthetic database."""

    indicator_id: int
    indicator_code: str
    year: int
    city_id: int
    city_slug: str
    province_id: int
    province_slug: str
    record_id: int
    record_key: str
    deep_after_id: int
    version: str  # the dataset version, which a cursor carries
    cursor_secret: str  # the key `atlas synth` stored, which signs the server's cursors


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    atlas: str
    datasette: str
    ceiling: str
    identity: str  # the field that identifies a row: key or slug


def read_fixture(path: str) -> Fixture:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        indicator_id, code = db.execute(
            "SELECT id, code FROM indicator WHERE unit = 'CNY' ORDER BY id LIMIT 1"
        ).fetchone()
        city_id, city_slug = db.execute(
            "SELECT id, slug FROM place WHERE level = 'prefecture_city'"
            " ORDER BY id LIMIT 1 OFFSET 7"
        ).fetchone()
        province_id, province_slug = db.execute(
            "SELECT p.id, p.slug FROM place p JOIN place c ON c.province_id = p.id"
            " GROUP BY p.id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        (total,) = db.execute("SELECT count(*) FROM observation").fetchone()
        record_id, record_key = db.execute(
            "SELECT id, key FROM observation ORDER BY id LIMIT 1 OFFSET ?",
            (min(12345, total // 2),),
        ).fetchone()
        deep = db.execute(
            "SELECT id FROM observation ORDER BY id LIMIT 1 OFFSET ?", (PAGE * DEEP_PAGES - 1,)
        ).fetchone()
        deep_after_id = deep[0] if deep else 0
        stored = db.execute("SELECT version FROM dataset_version LIMIT 1").fetchone()
        (secret,) = db.execute(
            "SELECT value FROM deployment_secret WHERE name = 'cursor'"
        ).fetchone()
    finally:
        db.close()
    return Fixture(
        indicator_id,
        code,
        2020,
        city_id,
        city_slug,
        province_id,
        province_slug,
        record_id,
        record_key,
        deep_after_id,
        stored[0] if stored and stored[0] else UNVERSIONED,
        secret,
    )


def deep_cursor(fixture: Fixture) -> str:
    """Atlas's cursor for the page after row number PAGE*DEEP_PAGES in the default order."""
    query = parse_query(METRIC_SPEC, QueryParams(f"limit={PAGE}"), secret="", path=METRICS_PATH)
    after = [fixture.deep_after_id, fixture.deep_after_id]
    return encode_cursor(METRIC_SPEC, query, after, fixture.cursor_secret, fixture.version)


def queries(fixture: Fixture, database: str) -> list[Query]:
    f = fixture
    ds = f"/{database}"
    metric_page = f"indicator={f.indicator_code}&year={f.year}&sort=-value&limit={PAGE}"
    ds_page = (
        f"{ds}/observation.json?indicator_id={f.indicator_id}&year={f.year}"
        f"&_sort_desc=value&_size={PAGE}&_shape=objects"
    )
    return [
        Query(
            "q1",
            "50 metrics, one indicator and year, by value desc",
            f"/api/v1/metrics?{metric_page}",
            f"{ds_page}&_nocount=1",
            "/q/q1",
            "key",
        ),
        Query(
            "q2",
            "one city's time series for one indicator",
            f"/api/v1/metrics?city={f.city_slug}&indicator={f.indicator_code}&sort=year&limit={PAGE}",
            f"{ds}/observation.json?place_id={f.city_id}&indicator_id={f.indicator_id}"
            f"&_sort=year&_size={PAGE}&_nocount=1&_shape=objects",
            "/q/q2",
            "key",
        ),
        Query(
            "q3",
            "one record by key",
            f"/api/v1/metrics/{f.record_key}",
            f"{ds}/observation/{f.record_id}.json?_shape=objects",
            "/q/q3",
            "key",
        ),
        Query(
            "q4",
            "50 cities of one province",
            f"/api/v1/cities?province={f.province_slug}&limit={PAGE}",
            f"{ds}/place.json?province_id={f.province_id}&level=prefecture_city&_sort=name"
            f"&_size={PAGE}&_nocount=1&_shape=objects",
            "/q/q4",
            "slug",
        ),
        Query(
            "q5",
            f"a page {DEEP_PAGES} pages deep (cursor)",
            f"{METRICS_PATH}?limit={PAGE}&cursor={quote(deep_cursor(f))}",
            f"{ds}/observation.json?_size={PAGE}&_next={f.deep_after_id}&_nocount=1&_shape=objects",
            "/q/q5",
            "key",
        ),
        Query(
            "q6",
            "q1 with the total count",
            f"/api/v1/metrics?{metric_page}&count=true",
            ds_page,
            "/q/q6",
            "key",
        ),
    ]


def identities(system: str, query: Query, body: dict[str, Any]) -> list[Any]:
    if system == "atlas":
        rows = body.get("data", [body])
    elif system == "datasette":
        rows = body["rows"]
    else:
        rows = body["data"]
    return [row[query.identity] for row in rows]


@dataclass(frozen=True)
class Replay:
    """The statements Atlas runs for one query, in order: the ceiling runs them all and
    answers with the rows of the one that reads the page (and the count, if asked)."""

    statements: list[tuple[str, Any]]
    counted: bool

    @property
    def page(self) -> int:
        """The statement that reads the page's rows: the last one that is not a count."""
        counts = [sql.startswith("SELECT count(*)") for sql, _ in self.statements]
        return max(i for i, is_count in enumerate(counts) if not is_count)


def ceiling_statements(path: str) -> dict[str, Replay]:
    """Atlas's SQL for each query, recorded as Atlas runs it on the same file."""
    import warnings

    warnings.filterwarnings("ignore", message=".*httpx.*")
    from fastapi.testclient import TestClient

    from app.main import create_app

    fixture = read_fixture(path)
    app = create_app(Settings(database_url=f"sqlite:///{path}"))
    replays: dict[str, Replay] = {}
    with TestClient(app) as client:
        for query in queries(fixture, "unused"):
            client.get(query.atlas)  # compile and warm, as a running server would be
            with recording() as ran:
                assert client.get(query.atlas).status_code == 200
            statements = [(statement.sql, statement.parameters) for statement in ran]
            replays[query.name] = Replay(statements, "count=true" in query.atlas)
    return replays

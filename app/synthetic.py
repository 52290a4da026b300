"""Synthetic scale data for benchmarks: many cities, indicators and years, clearly marked.

Everything written here hangs off one source of kind `synthetic`, whose title says so, and
is written only into a database that holds no real data.

The observations are generated inside the database by one INSERT ... SELECT over
cities x indicators x years: the "random" parts are integer hashes of (city, indicator,
year), so the same shape gives the same data on SQLite and PostgreSQL, and no Python object
is built per row (binding rows from Python caps out below 200,000 rows/s on two cores).
Secondary indexes are dropped for the load and built once at the end.
"""

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, Index, select, text
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint
from sqlmodel import SQLModel

from .db import is_sqlite, vacuum
from .facts.latest import mark_latest
from .facts.version import store_version
from .seeding.search import rebuild_search
from .seeding.secrets import ensure_secret

SOURCE_ID = "synthetic"
FIRST_YEAR = 2000
UNITS = ("count", "CNY", "percent")
MODULUS = 2147483647  # 2**31 - 1, the Park-Miller prime

Progress = Callable[[str], None]


class NotSyntheticTarget(RuntimeError):
    """The target database holds data already; synthetic rows never mix with real ones."""


@dataclass(frozen=True)
class Shape:
    cities: int
    indicators: int
    years: int
    provinces: int = 31
    seed: int = 20240325

    @property
    def upper_bound(self) -> int:
        return self.cities * self.indicators * self.years


def _hash(*terms: str) -> str:
    """SQL for a pseudo-random integer in [0, MODULUS) from integer terms: one Park-Miller
    step over a linear hash, in BIGINT arithmetic that SQLite and PostgreSQL evaluate alike
    (integers only: the two engines round casts from floats differently)."""
    primes = (7919, 104729, 1299709)
    seeded = " + ".join(
        f"CAST({term} AS BIGINT) * {prime}" for term, prime in zip(terms, primes, strict=False)
    )
    return f"((({seeded} + :seed) % {MODULUS}) * 48271 % {MODULUS})"


def _uniform(*terms: str) -> str:
    return f"({_hash(*terms)} * 1.0 / {MODULUS})"


def _series_sql() -> str:
    """One row per (city, indicator): its scale and its first year, computed once."""
    u_series = _uniform("c.id", "i.id")
    u_city = _uniform("c.id", "c.id")
    # City sizes are heavy-tailed (a few very large cities); the unit sets the scale.
    scale = (
        "(CASE i.unit WHEN 'CNY' THEN 100000000.0 WHEN 'count' THEN 100.0 ELSE 1.0 END)"
        f" * (0.05 + 20 * {u_city} * {u_city} * {u_city} * {u_city}) * (0.5 + {u_series})"
    )
    # 70% of series cover every year; the others start somewhere in the first half.
    h_series = _hash("c.id", "i.id")
    first_offset = (
        f"CASE WHEN {h_series} < {int(MODULUS * 0.7)} THEN 0 ELSE {h_series} % (:years / 2 + 1) END"
    )
    return f"""
        INSERT INTO synthetic_series
        SELECT c.id, i.id, i.unit, {scale}, {u_series}, {first_offset},
            (CAST(c.id - :first_city AS BIGINT) * :indicators + (i.id - 1)) * :years
        FROM place c CROSS JOIN indicator i
        WHERE c.level = 'prefecture_city'
    """


def _observations_sql() -> str:
    u_row = _uniform("s.city", "s.indicator", "y.year")
    u_qualifier = _uniform("y.year", "s.city", "s.indicator")
    raw = f"s.scale * (1 + 0.04 * y.year_offset) * (0.9 + 0.2 * {u_row})"
    value = (
        "CASE s.unit"
        f" WHEN 'percent' THEN round(CAST(100 * s.u * (0.9 + 0.1 * {u_row}) AS NUMERIC), 2)"
        f" WHEN 'count' THEN round(CAST({raw} AS NUMERIC))"
        f" ELSE round(CAST({raw} AS NUMERIC), 2) END"
    )
    qualifier = (
        f"CASE WHEN {u_qualifier} < 0.88 THEN 'exact'"
        f" WHEN {u_qualifier} < 0.94 THEN 'approximate'"
        f" WHEN {u_qualifier} < 0.98 THEN 'more_than' ELSE 'at_least' END"
    )
    return f"""
        INSERT INTO observation (id, key, indicator_id, subject_kind, place_id, period_label,
            period_start, period_end, period_precision, year, value, stated, qualifier,
            derived, source_id)
        SELECT id, 'syn-' || CAST(1000000000 + id AS TEXT), indicator, 'place', city,
            label, period_start, period_end, 'year', year, value, CAST(value AS TEXT),
            qualifier, :derived, :source
        FROM (
            SELECT s.first_id + y.year_offset + 1 AS id, s.indicator, s.city, y.label,
                y.period_start, y.period_end, y.year, {value} AS value, {qualifier} AS qualifier
            FROM synthetic_series s CROSS JOIN synthetic_year y
            WHERE y.year_offset >= s.first_offset
        ) generated
    """


def _places(shape: Shape) -> tuple[list[dict[str, Any]], list[dict[str, int]], int]:
    """Provinces and cities (skewed: a few provinces hold many cities), with the closure."""
    rng = random.Random(shape.seed)
    places: list[dict[str, Any]] = [
        {"id": 1, "slug": "synthland", "name": "Synthland (synthetic)", "level": "country",
         "parent_id": None, "province_id": None}
    ]  # fmt: skip
    closure = [{"place_id": 1, "ancestor_id": 1, "depth": 0}]
    weights = [1 / (rank + 1) ** 0.8 for rank in range(shape.provinces)]
    for p in range(shape.provinces):
        pid = 2 + p
        places.append(
            {"id": pid, "slug": f"synth-province-{p + 1:02d}",
             "name": f"Synthetic Province {p + 1:02d}", "level": "province",
             "parent_id": 1, "province_id": None}
        )  # fmt: skip
        closure += [
            {"place_id": pid, "ancestor_id": pid, "depth": 0},
            {"place_id": pid, "ancestor_id": 1, "depth": 1},
        ]
    first_city = 2 + shape.provinces
    for c in range(shape.cities):
        cid = first_city + c
        province = 2 + rng.choices(range(shape.provinces), weights)[0]
        places.append(
            {"id": cid, "slug": f"synth-city-{c + 1:05d}", "name": f"Synthetic City {c + 1:05d}",
             "level": "prefecture_city", "parent_id": province, "province_id": province}
        )  # fmt: skip
        closure += [
            {"place_id": cid, "ancestor_id": cid, "depth": 0},
            {"place_id": cid, "ancestor_id": province, "depth": 1},
            {"place_id": cid, "ancestor_id": 1, "depth": 2},
        ]
    return places, closure, first_city


def _indicators(shape: Shape) -> list[dict[str, Any]]:
    return [
        {
            "id": i + 1,
            "code": f"synthetic_{i + 1:03d}",
            "name": f"Synthetic indicator {i + 1:03d}",
            "unit": UNITS[i % len(UNITS)],
            "category": "synthetic",
            "description": "Synthetic benchmark indicator: not a real measurement.",
        }
        for i in range(shape.indicators)
    ]


def _ensure_empty(connection: Connection) -> None:
    source = SQLModel.metadata.tables["source"]
    kinds = {row[0] for row in connection.execute(select(source.c.kind).distinct())}
    if kinds - {"synthetic"}:
        raise NotSyntheticTarget(
            "the target database holds real (non-synthetic) sources; give synthetic data a"
            " database of its own"
        )
    if kinds:
        raise NotSyntheticTarget("the target database already holds synthetic data; use a new one")


def _bulk_settings(connection: Connection, sqlite: bool) -> None:
    """Settings for this one load. On SQLite the generated rows are valid by construction,
    so per-row foreign-key and CHECK evaluation (3x the insert cost) is skipped."""
    if sqlite:
        for pragma in ("foreign_keys = OFF", "ignore_check_constraints = ON",
                       "journal_mode = OFF", "synchronous = OFF", "cache_size = -262144",
                       "temp_store = MEMORY", "threads = 2"):  # fmt: skip
            connection.exec_driver_sql(f"PRAGMA {pragma}")
    else:
        connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        connection.exec_driver_sql("SET LOCAL synchronous_commit = off")


@dataclass(frozen=True)
class SynthReport:
    observations: int
    row_seconds: float
    index_seconds: float


def generate(engine: Engine, shape: Shape, progress: Progress | None = None) -> SynthReport:
    """Write the synthetic dataset into an empty, migrated database."""
    step = progress or (lambda _: None)
    sqlite = is_sqlite(str(engine.url))
    tables = SQLModel.metadata.tables
    observation = tables["observation"]
    indexes: list[Index] = sorted(observation.indexes, key=lambda ix: str(ix.name))
    places, closure, first_city = _places(shape)
    with engine.connect() as connection:
        if sqlite:
            _bulk_settings(connection, sqlite)  # PRAGMAs must precede the transaction
            connection.commit()
        with connection.begin():
            _ensure_empty(connection)
            if not sqlite:
                _bulk_settings(connection, sqlite)
            step("places and indicators")
            connection.execute(
                tables["source"].insert(),
                [{"id": SOURCE_ID, "kind": "synthetic", "language": "en",
                  "title": "Synthetic scale data for benchmarks (not real)",
                  "publisher": "Innovation Atlas benchmark generator",
                  "treatment": f"Generated: {shape}. No fact in it is real."}],
            )  # fmt: skip
            connection.execute(
                tables["place"].insert(), [{**p, "source_id": SOURCE_ID} for p in places]
            )
            connection.execute(tables["place_ancestor"].insert(), closure)
            connection.execute(tables["indicator"].insert(), _indicators(shape))
            connection.exec_driver_sql(
                "CREATE TEMPORARY TABLE synthetic_year (year INTEGER, year_offset INTEGER,"
                " label VARCHAR(32), period_start DATE, period_end DATE)"
            )
            years = range(FIRST_YEAR, FIRST_YEAR + shape.years)
            connection.execute(
                text("INSERT INTO synthetic_year VALUES (:year, :offset, :label, :start, :end)"),
                [{"year": y, "offset": y - FIRST_YEAR, "label": str(y),
                  "start": date(y, 1, 1), "end": date(y, 12, 31)} for y in years],
            )  # fmt: skip
            connection.exec_driver_sql(
                "CREATE TEMPORARY TABLE synthetic_series (city INTEGER, indicator INTEGER,"
                " unit VARCHAR(32), scale FLOAT, u FLOAT, first_offset INTEGER, first_id BIGINT)"
            )
            parameters = {"seed": shape.seed % MODULUS, "years": shape.years,
                          "indicators": shape.indicators, "first_city": first_city}  # fmt: skip
            connection.execute(text(_series_sql()), parameters)
            for index in indexes:
                connection.exec_driver_sql(f'DROP INDEX "{index.name}"')
            foreign_keys = (
                []
                if sqlite
                else sorted(observation.foreign_key_constraints, key=lambda fk: str(fk.name))
            )
            for fk in foreign_keys:  # PostgreSQL: one trigger per row per key otherwise
                connection.execute(DropConstraint(fk))
            step("observations")
            started = time.perf_counter()
            written = connection.execute(
                text(_observations_sql()),
                {"seed": shape.seed % MODULUS, "derived": False, "source": SOURCE_ID},
            ).rowcount
            rows_done = time.perf_counter()
            for index in indexes:
                step(f"index {index.name}")
                connection.execute(CreateIndex(index))
            connection.exec_driver_sql("DROP TABLE synthetic_year")
            connection.exec_driver_sql("DROP TABLE synthetic_series")
            if not sqlite:
                for name in ("place", "indicator", "observation"):
                    connection.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'),"
                        f" (SELECT max(id) FROM {name}))"
                    )
            for fk in foreign_keys:
                step(f"constraint {fk.name}")
                connection.execute(AddConstraint(fk))
            step("latest facts")  # no conflicts: one value per city, indicator and year
            mark_latest(connection)
            step("search entries")
            rebuild_search(connection)
            store_version(
                connection, "synthetic-" + hashlib.sha256(str(shape).encode()).hexdigest()[:32]
            )
            ensure_secret(connection)
            indexes_done = time.perf_counter()
        step("statistics")
        if sqlite:
            connection.exec_driver_sql("PRAGMA analysis_limit = 2000")  # sampled statistics
            connection.exec_driver_sql("ANALYZE")
            connection.exec_driver_sql("PRAGMA ignore_check_constraints = OFF")
            connection.commit()
    if not sqlite:
        vacuum(engine)
    return SynthReport(int(written), rows_done - started, indexes_done - rows_done)

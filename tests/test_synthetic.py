"""Synthetic scale data: marked, deterministic across engines, never mixed with real data."""

from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlmodel import SQLModel

from app.db import build_engine
from app.migrate import upgrade_to_head
from app.synthetic import NotSyntheticTarget, Shape, generate
from harness.postgres import PostgresCluster
from tests.conftest import load_seeds

SHAPE = Shape(cities=20, indicators=6, years=10, provinces=4)


def test_generates_a_marked_skewed_dataset(empty_url: str) -> None:
    upgrade_to_head(empty_url)
    engine = build_engine(empty_url)
    report = generate(engine, SHAPE)
    tables = SQLModel.metadata.tables
    with engine.connect() as connection:
        count = connection.execute(
            select(func.count()).select_from(tables["observation"])
        ).scalar_one()
        kinds = connection.execute(select(tables["source"].c.kind, tables["source"].c.title)).all()
        qualifiers: dict[str, int] = dict(
            connection.execute(
                text("SELECT qualifier, count(*) FROM observation GROUP BY qualifier")
            ).all()
        )
        per_series = (
            connection.execute(
                text("SELECT count(*) FROM observation GROUP BY place_id, indicator_id")
            )
            .scalars()
            .all()
        )
        keys = connection.execute(text("SELECT count(DISTINCT key) FROM observation")).scalar_one()
    engine.dispose()
    assert report.observations == count
    assert 0.7 * SHAPE.upper_bound <= count < SHAPE.upper_bound  # some series miss early years
    assert min(per_series) < SHAPE.years == max(per_series)
    assert kinds == [("synthetic", "Synthetic scale data for benchmarks (not real)")]
    assert qualifiers["exact"] > count / 2
    assert len(qualifiers) > 1
    assert keys == count


def test_leaves_the_planner_statistics_and_a_settled_table(empty_url: str) -> None:
    """A benchmark on synthetic data measures a database as `atlas load` leaves it: analysed,
    and on PostgreSQL vacuumed (index-only scans read no table row). An ANALYZE in a
    transaction that is then rolled back left PostgreSQL with none, and guessing."""
    upgrade_to_head(empty_url)
    engine = build_engine(empty_url)
    generate(engine, SHAPE)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            analysed = connection.execute(
                text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'observation'")
            ).scalar_one()
            assert analysed > 0
        else:
            analysed = connection.execute(
                text("SELECT count(*) FROM pg_stats WHERE tablename = 'observation'")
            ).scalar_one()
            visible, pages = connection.execute(
                text("SELECT relallvisible, relpages FROM pg_class WHERE relname = 'observation'")
            ).one()
            assert analysed > 0
            assert 0 < visible <= pages  # vacuumed: no insert ever marks a page all-visible
    engine.dispose()


def _rows(url: str) -> list[tuple[object, ...]]:
    upgrade_to_head(url)
    engine = build_engine(url)
    generate(engine, SHAPE)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT id, key, place_id, indicator_id, year, value, qualifier"
                " FROM observation ORDER BY id"
            )
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_same_shape_gives_the_same_rows_on_both_engines(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    on_sqlite = _rows(f"sqlite:///{tmp_path / 'synthetic.db'}")
    on_postgres = _rows(postgres.url(postgres.create_database("synthetic")))
    assert len(on_sqlite) > 0
    assert on_sqlite == on_postgres


def test_refuses_a_database_with_real_data(empty_url: str) -> None:
    load_seeds(empty_url)
    engine = build_engine(empty_url)
    with pytest.raises(NotSyntheticTarget, match="real"):
        generate(engine, SHAPE)
    engine.dispose()

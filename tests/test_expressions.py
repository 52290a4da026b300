"""The engine-specific SQL of app.query.expressions, run on both engines."""

from typing import Any

import psycopg
import pytest
from sqlalchemy import Boolean, Integer, Select, column, create_engine, select, table, text

from app.db import build_engine
from app.query.expressions import IdSet, Unindexed
from app.query.statements import slot
from app.query.terms import id_set_value
from tests.conftest import Backend

numbers = table("numbers", column("id", Integer), column("label"))


def _on_postgresql(statement: Select[Any]) -> str:
    dialect = create_engine("postgresql+psycopg://", module=psycopg).dialect
    return str(statement.compile(dialect=dialect))


def test_an_integer_id_set_is_compared_as_integers_on_postgresql() -> None:
    """psycopg sends a list of small ints as smallint[], which PostgreSQL tests against an
    integer column element by element; cast, the list is hashed once."""
    compiled = _on_postgresql(select(numbers.c.id).where(IdSet(numbers.c.id, slot("ids"))))
    assert "numbers.id = ANY(CAST(%(ids)s AS INTEGER[]))" in compiled
    by_label = _on_postgresql(select(numbers.c.id).where(IdSet(numbers.c.label, slot("ids"))))
    assert "numbers.label = ANY(%(ids)s)" in by_label  # no cast that could truncate a text


@pytest.mark.parametrize(
    "ids",
    [[], [1], [2, 3, 40_000], list(range(0, 1_000, 7)), [2**31 - 1]],
    ids=["none", "one", "past-smallint", "many", "largest-integer"],
)
def test_an_id_set_matches_exactly_the_ids_given(backend: Backend, ids: list[int]) -> None:
    engine = build_engine(backend.new_database())
    stored = [0, 1, 2, 3, 7, 40_000, 994, 2**31 - 1]
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE numbers (id INTEGER PRIMARY KEY, label TEXT)"))
            connection.execute(
                text("INSERT INTO numbers (id, label) VALUES (:id, :label)"),
                [{"id": n, "label": f"n{n}"} for n in stored],
            )
        statement = select(numbers.c.id).where(IdSet(numbers.c.id, slot("ids")))
        with engine.connect() as connection:
            bound = id_set_value(connection, ids)
            found = connection.execute(statement, {"ids": bound}).scalars().all()
        assert sorted(found) == sorted(set(ids) & set(stored))
    finally:
        engine.dispose()


def test_an_unindexed_flag_is_not_read_through_its_index(backend: Backend) -> None:
    """`Unindexed` keeps a condition off every index, so the engine takes the plan's path.
    PostgreSQL folds `flag OR false` back to `flag` and read the flag's index: a run of
    `latest=true&sort=-year,value` sorted 120,000 latest rows (160 ms) where the plan read
    the year's values in order. The rows are the same either way."""
    flags = table("flags", column("id", Integer), column("flag", Boolean))
    engine = build_engine(backend.new_database())
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE flags (id INTEGER PRIMARY KEY, flag BOOLEAN)"))
            connection.execute(text("CREATE INDEX ix_flags_flag ON flags (flag)"))
            connection.execute(
                text("INSERT INTO flags (id, flag) VALUES (:id, :flag)"),
                [{"id": n, "flag": n % 50 == 0} for n in range(5_000)],
            )
            connection.execute(text("ANALYZE"))
        statement = select(flags.c.id).where(Unindexed(flags.c.flag) == slot("flag"))
        with engine.connect() as connection:
            found = connection.execute(statement, {"flag": True}).scalars().all()
            compiled = statement.compile(dialect=engine.dialect)
            bound: Any = compiled.construct_params({"flag": True})
            if compiled.positiontup is not None:
                bound = tuple(bound[name] for name in compiled.positiontup)
            if backend.name != "sqlite":
                connection.exec_driver_sql("SET enable_seqscan = off")  # an index if any serves
            explain = "EXPLAIN QUERY PLAN" if backend.name == "sqlite" else "EXPLAIN"
            plan = connection.exec_driver_sql(f"{explain} {compiled}", bound).all()
        assert sorted(found) == list(range(0, 5_000, 50))
        assert "ix_flags_flag" not in " ".join(str(row) for row in plan)
    finally:
        engine.dispose()

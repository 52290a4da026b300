"""The engine-specific SQL of app.query.expressions, run on both engines."""

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from sqlalchemy import (
    Boolean,
    Engine,
    Integer,
    Select,
    String,
    column,
    create_engine,
    select,
    table,
    text,
)

from app.db import build_engine
from app.query.expressions import IdSet, Unindexed, unserved
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


def _indexed_table(
    backend: Backend, name: str, field: str, kind: str, value: Callable[[int], Any]
) -> Engine:
    """A new database holding `name` (ids 0-4,999 and `field`, indexed), analysed."""
    engine = build_engine(backend.new_database())
    with engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, {field} {kind})"))
        connection.execute(text(f"CREATE INDEX ix_{name}_{field} ON {name} ({field})"))
        connection.execute(
            text(f"INSERT INTO {name} (id, {field}) VALUES (:id, :value)"),
            [{"id": n, "value": value(n)} for n in range(5_000)],
        )
        connection.execute(text("ANALYZE"))
    return engine


def test_an_unindexed_flag_is_not_read_through_its_index(backend: Backend) -> None:
    """`Unindexed` keeps a condition off every index, so the engine takes the plan's path.
    PostgreSQL folds `flag OR false` back to `flag` and read the flag's index: a run of
    `latest=true&sort=-year,value` sorted 120,000 latest rows (160 ms) where the plan read
    the year's values in order. The rows are the same either way."""
    flags = table("flags", column("id", Integer), column("flag", Boolean))
    engine = _indexed_table(backend, "flags", "flag", "BOOLEAN", lambda n: n % 50 == 0)
    try:
        statement = select(flags.c.id).where(Unindexed(flags.c.flag) == slot("flag"))
        with engine.connect() as connection:
            found = connection.execute(statement, {"flag": True}).scalars().all()
            if backend.name != "sqlite":
                connection.exec_driver_sql("SET enable_seqscan = off")  # an index if any serves
            plan = _explained(connection, statement, {"flag": True}, backend.name == "sqlite")
        assert sorted(found) == list(range(0, 5_000, 50))
        assert "ix_flags_flag" not in plan
    finally:
        engine.dispose()


def _explained(
    connection: Any, statement: Select[Any], values: dict[str, Any], sqlite: bool
) -> str:
    compiled = statement.compile(dialect=connection.dialect)
    bound: Any = compiled.construct_params(values)
    if compiled.positiontup is not None:
        bound = tuple(bound[name] for name in compiled.positiontup)
    explain = "EXPLAIN QUERY PLAN" if sqlite else "EXPLAIN"
    return " ".join(str(row) for row in connection.exec_driver_sql(f"{explain} {compiled}", bound))


def test_an_unserved_condition_is_estimated_from_its_column(backend: Backend) -> None:
    """`unserved` keeps a condition off every index and, on PostgreSQL, leaves the planner
    the column's statistics: `(label || '') = …` was estimated to keep 0.5% of the rows
    whatever the value, and at 3M rows a walk of the period_end index that such conditions
    kept 166,000 rows of was planned as a sort of all of them (567 ms)."""
    labels = table("labels", column("id", Integer), column("label", String))
    engine = _indexed_table(
        backend, "labels", "label", "TEXT", lambda n: "common" if n % 5 else f"rare-{n}"
    )
    try:
        condition = unserved(lambda label: label == slot("label"), labels.c.label)
        statement = select(labels.c.id).where(condition)
        sqlite = backend.name == "sqlite"
        with engine.connect() as connection:
            found = connection.execute(statement, {"label": "common"}).scalars().all()
            estimated = _explained(connection, statement, {"label": "common"}, sqlite)
            if not sqlite:
                connection.exec_driver_sql("SET enable_seqscan = off")  # an index if any serves
            forced = _explained(connection, statement, {"label": "rare-5"}, sqlite)
        assert sorted(found) == [n for n in range(5_000) if n % 5]
        assert "ix_labels_label" not in forced
        if not sqlite:
            rows = int(estimated.split("rows=")[1].split()[0])
            assert 3_000 <= rows <= 5_000, estimated  # 4,000 match
    finally:
        engine.dispose()

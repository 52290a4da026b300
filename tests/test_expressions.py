"""The engine-specific SQL of app.query.expressions, run on both engines."""

from typing import Any

import psycopg
import pytest
from sqlalchemy import Integer, Select, column, create_engine, select, table, text

from app.db import build_engine
from app.query.expressions import IdSet
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

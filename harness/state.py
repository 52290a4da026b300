"""A database's whole state, for tests that must prove nothing changed."""

from typing import Any

from sqlalchemy import select, text
from sqlmodel import SQLModel

from app.db import build_engine


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: sorted(
                    (tuple(row) for row in connection.execute(select(table))), key=repr
                )
                for table in SQLModel.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """The rows of one SQL query on the database at `url`, as tuples."""
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()

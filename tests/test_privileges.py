"""Least privilege: the API's own connections cannot write, on either engine.

On PostgreSQL the API connects as a role `atlas grant-reader` gave SELECT only (see the
`reader_url` fixture) and opens read-only transactions; on SQLite it opens the file
read-only. Each write below goes through the app's engine and must be refused by the
database itself, leaving the data as it was.
"""

import os
import subprocess
import sys

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from app.config import PROJECT_ROOT, Settings
from app.db import build_engine
from app.main import create_app
from tests.conftest import READER_ROLE, Backend

WRITES = [
    "INSERT INTO indicator (code, name, unit, category) VALUES ('x', 'x', 'count', 'other')",
    "UPDATE observation SET value = 0",
    "DELETE FROM observation",
    "DROP TABLE observation",
    "CREATE TABLE intruder (id integer)",
    "ALTER TABLE place ADD COLUMN intruder integer",
]


def _count(engine: Engine) -> tuple[int, float]:
    with engine.connect() as connection:
        row = connection.execute(text("SELECT count(*), sum(value) FROM observation")).one()
        return int(row[0]), float(row[1])


@pytest.fixture(scope="module")
def api_engine(reader_url: str) -> Engine:
    return create_app(Settings(database_url=reader_url)).state.nodes.primary.lanes.fast.engine  # type: ignore[no-any-return]


@pytest.mark.parametrize("statement", WRITES)
def test_a_write_through_the_api_connection_is_refused(
    api_engine: Engine, loaded_url: str, statement: str
) -> None:
    owner = build_engine(loaded_url)
    before = _count(owner)
    with api_engine.connect() as connection, pytest.raises(DBAPIError) as refused:
        connection.exec_driver_sql(statement)
    message = str(refused.value.orig).lower()
    assert any(
        reason in message
        for reason in ("read-only transaction", "permission denied", "readonly database")
    ), message
    assert _count(owner) == before
    owner.dispose()


def test_the_role_alone_refuses_writes(backend: Backend, api_engine: Engine) -> None:
    """Turn the session's read-only default off, as a misconfigured client could: the role
    is still refused, so the guarantee does not rest on the session setting."""
    if backend.cluster is None:
        pytest.skip("SQLite has no roles; the file is opened read-only")
    with api_engine.connect() as connection:
        connection.exec_driver_sql("SET default_transaction_read_only = off")
        connection.commit()
        with pytest.raises(DBAPIError) as refused:
            connection.exec_driver_sql(WRITES[0])
        assert refused.value.orig is not None
        assert getattr(refused.value.orig, "sqlstate", None) == "42501"  # insufficient_privilege


def test_tables_added_by_later_migrations_are_readable(backend: Backend) -> None:
    """Default privileges: a table the owner creates after the grant is readable too."""
    if backend.cluster is None:
        pytest.skip("SQLite has no roles")
    cluster = backend.cluster
    database = cluster.create_database("grants")
    cluster.execute(f"GRANT CONNECT ON DATABASE {database} TO {READER_ROLE}")
    owner_url = cluster.url(database)
    result = _grant(owner_url)
    assert result.returncode == 0, result.stderr
    cluster.execute("CREATE TABLE later (id integer); INSERT INTO later VALUES (7)", database)
    reader = build_engine(cluster.url(database, user=READER_ROLE))
    with reader.connect() as connection:
        assert connection.execute(text("SELECT id FROM later")).scalar_one() == 7
        with pytest.raises(DBAPIError):
            connection.execute(text("INSERT INTO later VALUES (8)"))
    reader.dispose()


def test_grant_reader_explains_itself_on_sqlite(backend: Backend) -> None:
    if backend.cluster is not None:
        pytest.skip("the refusal is for SQLite")
    result = _grant(backend.new_database())
    assert result.returncode == 2
    assert "opens SQLite read-only" in result.stderr


def test_grant_reader_to_a_missing_role_fails_clearly(backend: Backend, loaded_url: str) -> None:
    if backend.cluster is None:
        pytest.skip("roles are PostgreSQL's")
    result = _grant(loaded_url, "no_such_role")
    assert result.returncode == 1
    assert 'role "no_such_role" does not exist' in result.stderr
    assert "Traceback" not in result.stderr


def _grant(url: str, role: str = READER_ROLE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "grant-reader", role],
        env={**os.environ, "DATABASE_URL": url, "COLUMNS": "200"},
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip

"""Least privilege on PostgreSQL: the API reads through a role that can only SELECT.

The owner role runs migrations and the loader; `atlas grant-reader ROLE` gives an existing
login role read access to every table, now and after later migrations (default
privileges). The API's connections also open every transaction read-only, so even a role
granted more by mistake cannot write through it; the role is the guarantee, the session
setting the second wall.
"""

import psycopg
from psycopg import sql
from sqlalchemy import Engine


class NotPostgres(ValueError):
    pass


class GrantFailed(RuntimeError):
    pass


def grant_reader(engine: Engine, role: str, schema: str = "public") -> None:
    """Let `role` read every table in `schema`, including tables created later by the
    role running this (the owner)."""
    if engine.dialect.name != "postgresql":
        raise NotPostgres("roles apply to PostgreSQL; the server opens SQLite read-only")
    identifiers = {"role": sql.Identifier(role), "schema": sql.Identifier(schema)}
    statements = [
        "GRANT CONNECT ON DATABASE {database} TO {role}",
        "GRANT USAGE ON SCHEMA {schema} TO {role}",
        "GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {role}",
    ]
    with engine.begin() as connection:
        raw = connection.connection.dbapi_connection
        assert isinstance(raw, psycopg.Connection)
        database = sql.Identifier(raw.info.dbname)
        with raw.cursor() as cursor:
            for statement in statements:
                try:
                    cursor.execute(sql.SQL(statement).format(database=database, **identifiers))
                except psycopg.Error as exc:
                    raise GrantFailed(f"could not grant to {role!r}: {exc}") from None

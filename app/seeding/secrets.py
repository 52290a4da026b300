"""The deployment's own keys, generated once by `atlas load` and kept in the database.

Cursors are signed (app.query.cursors). A fixed development key, as the default was,
lets anyone forge them; a key generated per process would make every worker refuse the
others' cursors. So the first load generates a random key and stores it; every later load
keeps it (a reload does not invalidate cursors), and every worker and replica reads the
same one. ATLAS_CURSOR_SECRET, when set, is used instead.
"""

import secrets

from sqlalchemy import Connection, insert, select
from sqlmodel import SQLModel

CURSOR = "cursor"


def ensure_secret(connection: Connection, name: str = CURSOR) -> None:
    """Generate and store the key `name` (256 random bits) unless the database has it."""
    table = SQLModel.metadata.tables["deployment_secret"]
    if connection.execute(select(table.c.name).where(table.c.name == name)).first() is None:
        connection.execute(insert(table).values(name=name, value=secrets.token_hex(32)))


def read_secret(connection: Connection, name: str = CURSOR) -> str | None:
    table = SQLModel.metadata.tables["deployment_secret"]
    value = connection.execute(select(table.c.value).where(table.c.name == name)).scalar()
    return str(value) if value else None

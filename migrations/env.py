"""Alembic environment: the models' metadata, the URL from settings, batch mode on SQLite."""

import importlib
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

config = context.config
# The package whose models these are: the one that runs the migrations (app.migrate says
# which: `app` in a checkout, `innovation_atlas` installed), else the checkout's, for the
# `alembic` command run in the repository.
_package = str(config.attributes.get("package", "app"))
importlib.import_module(f"{_package}.models")  # registers every table on the metadata
get_settings = importlib.import_module(f"{_package}.config").get_settings
_db = importlib.import_module(f"{_package}.db")
build_engine, is_sqlite = _db.build_engine, _db.is_sqlite
include_name = importlib.import_module(f"{_package}.migrate").include_name

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _url() -> str:
    url = config.attributes.get("database_url") or get_settings().database_url
    return str(url)


def _configure(connection: Connection | None, url: str) -> None:
    context.configure(
        connection=connection,
        url=None if connection is not None else url,
        target_metadata=target_metadata,
        render_as_batch=is_sqlite(url),
        compare_type=True,
        include_name=include_name,
        literal_binds=connection is None,
    )


def run_migrations_offline() -> None:
    url = _url()
    _configure(None, url)
    with context.begin_transaction():
        context.run_migrations()


def _migrate(connection: Connection, url: str) -> None:
    """Run the migrations on `connection`. On SQLite, batch mode rebuilds a table by copying
    it and dropping the original, which foreign-key enforcement refuses as soon as another
    table's rows point at it (a loaded database): enforcement is off for the migration and
    the references are checked once it has run."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # the pragma is ignored inside a transaction
        _outside_transaction(connection, "PRAGMA foreign_keys = OFF")
    try:
        _configure(connection, url)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite and not config.attributes.get("partial", False):
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left broken references: {broken[:5]}")
    finally:
        if sqlite:
            _outside_transaction(connection, "PRAGMA foreign_keys = ON")


def _outside_transaction(connection: Connection, pragma: str) -> None:
    if connection.in_transaction():
        connection.commit()
    connection.exec_driver_sql(pragma)
    connection.commit()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(
            connection,
            _url() if "database_url" in config.attributes else str(connection.engine.url),
        )
        return
    url = _url()
    engine = build_engine(url)
    try:
        with engine.connect() as conn:
            _migrate(conn, url)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

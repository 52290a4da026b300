"""The schema reaches the database only through Alembic, on both engines."""

import re
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, TextClause, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from app.db import build_engine
from app.migrate import alembic_config, head_revision, include_name, upgrade_to_head
from tests.conftest import Backend, load_seeds

# The models' tables: a model whose migration is missing fails the upgrade test and the
# drift check, with nothing to list here.
TABLES = set(SQLModel.metadata.tables)
FTS_TABLES = {  # SQLite's FTS5 table for search and the shadow tables FTS5 keeps
    "search_entry_fts", "search_entry_fts_config", "search_entry_fts_data",
    "search_entry_fts_docsize", "search_entry_fts_idx",
}  # fmt: skip


def _tables(url: str) -> set[str]:
    engine = build_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_from_empty_then_downgrade_to_base_and_back(empty_url: str) -> None:
    expected = TABLES | (FTS_TABLES if empty_url.startswith("sqlite") else set())
    upgrade_to_head(empty_url)
    assert _tables(empty_url) == expected
    command.downgrade(alembic_config(empty_url), "base")
    assert _tables(empty_url) == set()
    upgrade_to_head(empty_url)
    assert _tables(empty_url) == expected


def test_models_and_migrations_do_not_drift(empty_url: str) -> None:
    upgrade_to_head(empty_url)
    command.check(alembic_config(empty_url))  # raises if autogenerate would emit anything
    engine = build_engine(empty_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": include_name}
            )
            assert compare_metadata(context, SQLModel.metadata) == []
    finally:
        engine.dispose()


def test_every_constraint_is_named(empty_url: str) -> None:
    upgrade_to_head(empty_url)
    engine = build_engine(empty_url)
    try:
        inspector = inspect(engine)
        for table in TABLES:
            for fk in inspector.get_foreign_keys(table):
                assert str(fk["name"]).startswith("fk_"), (table, fk)
            for unique in inspector.get_unique_constraints(table):
                assert str(unique["name"]).startswith("uq_"), (table, unique)
    finally:
        engine.dispose()


def test_a_loaded_database_migrates_down_and_up_with_its_rows(empty_url: str) -> None:
    """Batch mode rebuilds a SQLite table by copying and dropping it; with other tables'
    rows pointing at it, that must neither fail nor lose or break a reference."""
    load_seeds(empty_url)
    before = _counts(empty_url)
    command.downgrade(alembic_config(empty_url), "0002")
    upgrade_to_head(empty_url)
    load_seeds(empty_url)  # the reference divisions the downgrade removed come back
    after = _counts(empty_url)
    # The releases are history, not data: the downgrade dropped them, and the load that
    # brought the divisions back recorded itself as a release of its own.
    assert after.pop("release") == before.pop("release") == 1
    assert {name: n for name, n in after.items() if not name.startswith("release_")} == {
        name: n for name, n in before.items() if not name.startswith("release_")
    }
    engine = build_engine(empty_url)
    try:
        with engine.connect() as connection:
            revision = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert revision.scalar_one() == head_revision()
            if connection.dialect.name == "sqlite":
                assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    finally:
        engine.dispose()


def _counts(url: str) -> dict[str, int]:
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in sorted(TABLES)
            }
    finally:
        engine.dispose()


def test_the_database_refuses_a_unit_outside_the_vocabulary(empty_url: str) -> None:
    upgrade_to_head(empty_url)
    engine = build_engine(empty_url)
    insert = text(
        "INSERT INTO indicator (code, name, unit, category, description)"
        " VALUES (:code, 'Length', :unit, 'test', 'A test indicator.')"
    )
    try:
        with engine.begin() as connection:
            connection.execute(insert, {"code": "in_vocabulary", "unit": "percentage_point"})
        with pytest.raises(IntegrityError, match="ck_indicator_unit"), engine.begin() as connection:
            connection.execute(insert, {"code": "furlongs", "unit": "furlong"})
    finally:
        engine.dispose()


def test_every_migration_is_numbered_in_its_name_and_its_revision() -> None:
    """`YYYY_MM_DD_NNNN_<what>.py` with revision NNNN, each after the one before: the order
    reads off the folder, and a revision autogenerate named with a random id is caught."""
    scripts = ScriptDirectory.from_config(alembic_config(""))
    for script in scripts.walk_revisions():
        name = Path(script.path).name
        found = re.fullmatch(r"\d{4}_\d{2}_\d{2}_(\d{4})_[a-z0-9_]+\.py", name)
        assert found, f"{name}: not YYYY_MM_DD_NNNN_<what>.py"
        assert script.revision == found[1], f"{name}: revision {script.revision!r}"
        if script.down_revision is not None:
            assert isinstance(script.down_revision, str)
            assert int(script.down_revision) < int(script.revision), name


def _observation(year: int | None, period_end: str | None) -> TextClause:
    """An observation of a one-place, one-indicator database with this year and end."""
    end = "NULL" if period_end is None else f"'{period_end}'"
    return text(
        "INSERT INTO observation (key, indicator_id, subject_kind, place_id, period_end,"
        " year, period_precision, value, qualifier, derived, conflict, latest, source_id)"
        f" VALUES (:key, 1, 'place', 1, {end}, :year, 'year', 1, 'exact', false, false,"
        " false, 'test')"
    ).bindparams(key=f"test-{year}-{period_end}", year=year)


def _one_place_and_indicator(connection: Connection) -> None:
    connection.execute(
        text("INSERT INTO source (id, kind, language) VALUES ('test', 'document', 'en')")
    )
    connection.execute(
        text("INSERT INTO place (id, slug, name, level, source_id)"
             " VALUES (1, 'test', 'Test', 'prefecture_city', 'test')")
    )  # fmt: skip
    connection.execute(
        text("INSERT INTO indicator (id, code, name, unit, category, description)"
             " VALUES (1, 'test', 'Test', 'count', 'test', 'A test indicator.')")
    )  # fmt: skip


@pytest.mark.parametrize(
    ("year", "period_end"),
    [(2022, "2023-12-31"), (None, "2023-12-31"), (2023, None)],
)
def test_the_database_refuses_a_year_that_is_not_its_period_ends(
    empty_url: str, year: int | None, period_end: str | None
) -> None:
    """The planner reads a period end's rows as its year's (app.query.runs)."""
    upgrade_to_head(empty_url)
    engine = build_engine(empty_url)
    try:
        with engine.begin() as connection:
            _one_place_and_indicator(connection)
            connection.execute(_observation(2023, "2023-12-31"))
            connection.execute(_observation(None, None))
        refused = pytest.raises(IntegrityError, match="ck_observation_period_year")
        with refused, engine.begin() as connection:
            connection.execute(_observation(year, period_end))
    finally:
        engine.dispose()


def test_sqlite_refuses_a_period_end_it_cannot_read_as_a_date(
    empty_url: str, backend: Backend
) -> None:
    """SQLite stores a date as text and takes its year with strftime, which has none for
    text that is not a date: the check must refuse it, not let any year through."""
    if backend.name != "sqlite":
        pytest.skip("PostgreSQL's date column takes only dates")
    upgrade_to_head(empty_url)
    engine = build_engine(empty_url)
    try:
        with engine.begin() as connection:
            _one_place_and_indicator(connection)
        refused = pytest.raises(IntegrityError, match="ck_observation_period_year")
        with refused, engine.begin() as connection:
            connection.execute(_observation(2023, "31/12/2023"))
    finally:
        engine.dispose()


def test_an_upgrade_stops_at_rows_whose_year_is_not_their_period_ends(empty_url: str) -> None:
    """Nothing is changed, and the error says what to correct."""
    command.upgrade(alembic_config(empty_url), "0019")
    engine = build_engine(empty_url)
    try:
        with engine.begin() as connection:
            _one_place_and_indicator(connection)
            connection.execute(_observation(2022, "2023-12-31"))
        with pytest.raises(RuntimeError, match=r"1 observation\(s\) have a year that is not"):
            upgrade_to_head(empty_url)
        with engine.connect() as connection:
            revision = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert revision.scalar_one() == "0019"
            assert connection.execute(text("SELECT count(*) FROM observation")).scalar() == 1
    finally:
        engine.dispose()


def test_a_rebuilt_table_keeps_sqlites_statistics(empty_url: str, backend: Backend) -> None:
    """SQLite's batch mode copies a table and drops the old one, statistics and all: at 3M
    rows its planner then took the wrong index for a place's standings (1 s, refused)."""
    if backend.name != "sqlite":
        pytest.skip("PostgreSQL alters the table in place and keeps its statistics")
    command.upgrade(alembic_config(empty_url), "0019")
    engine = build_engine(empty_url)

    def analysed() -> list[str]:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT idx FROM sqlite_stat1 WHERE tbl = 'observation' ORDER BY idx"
            )
            return [str(row[0]) for row in rows]

    try:
        with engine.begin() as connection:
            _one_place_and_indicator(connection)
            connection.execute(_observation(2023, "2023-12-31"))
            connection.exec_driver_sql("ANALYZE")
        before = analysed()
        assert "ix_observation_period_end_value_id" in before
        upgrade_to_head(empty_url)
        assert analysed() == before
        command.downgrade(alembic_config(empty_url), "0019")
        assert analysed() == before
    finally:
        engine.dispose()

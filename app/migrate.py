"""Running the Alembic migrations from code (the loader, the server's start-up, the tests)."""

from functools import lru_cache

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from .locations import NAME, installed, shipped


def alembic_config(database_url: str) -> Config:
    """The checkout's alembic.ini (which the `alembic` command reads too); an installed
    package has none and sets the one option upgrading needs here instead, without the
    ini's `prepend_sys_path = .`, which would let a folder named `app` in the working
    directory shadow the package."""
    migrations = shipped("migrations")
    config = Config(None if installed() else str(migrations.parent / "alembic.ini"))
    config.set_main_option("script_location", str(migrations))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    config.attributes["package"] = NAME  # what migrations/env.py imports the models from
    return config


def upgrade_to_head(database_url: str, *, partial: bool = False) -> None:
    """Migrate to the head. `partial`: the database holds some rows of a whole one (a kept
    release's delta), so rows may point at rows it lacks, and references are not checked."""
    config = alembic_config(database_url)
    config.attributes["partial"] = partial
    command.upgrade(config, "head")


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(""))


def head_revision() -> str | None:
    return _scripts().get_current_head()


def is_behind(revision: str | None) -> bool:
    """Whether a database at `revision` lacks migrations this code has, so that queries
    written for the head would fail on it. A revision this code does not know is newer
    (a later release migrated it): its changes are additive, so that is not behind."""
    if revision == head_revision():
        return False
    return revision is None or revision in {s.revision for s in _scripts().walk_revisions()}


# Engine-specific objects a migration creates by hand, which the models cannot declare:
# SQLite's FTS5 table for search (and the shadow tables FTS5 keeps beside it).
UNMODELLED_PREFIXES = ("search_entry_fts",)


def include_name(name: str | None, type_: str, _parent: object) -> bool:
    """Whether autogenerate compares an object: everything but the unmodelled tables."""
    return not (type_ == "table" and name is not None and name.startswith(UNMODELLED_PREFIXES))

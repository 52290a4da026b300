"""In a checkout the code reads the repository's own seeds/, migrations/ and alembic.ini,
and keeps its database in var/, as `make run` always did; an installed package reads the
copies inside it instead (tests/test_package.py runs one)."""

from pathlib import Path

import pytest

from app.config import PROJECT_ROOT, Settings, default_data_dir
from app.locations import installed, shipped
from app.migrate import alembic_config


def test_a_checkout_reads_its_own_directories_and_keeps_data_in_var() -> None:
    assert not installed()
    assert shipped("seeds") == PROJECT_ROOT / "seeds"
    assert shipped("migrations") == PROJECT_ROOT / "migrations"
    assert default_data_dir() == PROJECT_ROOT / "var"
    settings = Settings.model_fields
    assert settings["seeds_dir"].get_default(call_default_factory=True) == PROJECT_ROOT / "seeds"
    config = alembic_config("sqlite://")
    assert config.config_file_name == str(PROJECT_ROOT / "alembic.ini")
    assert config.get_main_option("script_location") == str(PROJECT_ROOT / "migrations")


def test_the_default_database_is_in_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings(_env_file=None, data_dir=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'atlas.db'}"

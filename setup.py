"""The build hook that puts the repository's `seeds/` and `migrations/` into the wheel.

They stay top-level directories of the repository, where curators and Alembic find them; in
a wheel they are package data under `app/bundled/`, where app.locations looks for them.
Everything else about the build is declared in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ("seeds", "migrations")


class BuildWithData(build_py):
    """build_py, then a copy of each bundled directory into the built package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the checkout's own directories
            return
        target = Path(self.build_lib) / "app" / "bundled"
        for name in BUNDLED:
            shutil.copytree(
                ROOT / name,
                target / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                dirs_exist_ok=True,
            )


setup(cmdclass={"build_py": BuildWithData})

"""The package's import name, and the build hook that puts the repository's `seeds/` and
`migrations/` into the wheel.

The code is the checkout's `app/`; it installs as `innovation_atlas` (it imports itself
relatively, so it runs under either name), and an install never claims the generic `app`.
`seeds/` and `migrations/` stay top-level directories of the repository, where curators and
Alembic find them; in a wheel they are package data under `innovation_atlas/bundled/`,
where app.locations looks for them. Everything else about the build is declared in
pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SOURCE = "app"
NAME = "innovation_atlas"
BUNDLED = ("seeds", "migrations")


class BuildWithData(build_py):
    """build_py, then a copy of each bundled directory into the built package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the checkout's own directories
            return
        target = Path(self.build_lib) / NAME / "bundled"
        for name in BUNDLED:
            shutil.copytree(
                ROOT / name,
                target / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                dirs_exist_ok=True,
            )


setup(
    cmdclass={"build_py": BuildWithData},
    package_dir={NAME: SOURCE},
    packages=[
        NAME + package.removeprefix(SOURCE)
        for package in find_namespace_packages(
            include=[SOURCE, f"{SOURCE}.*"], exclude=["*.__pycache__"]
        )
    ],
)

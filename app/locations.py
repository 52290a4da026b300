"""Where the files the code reads beside itself are: the seeds and the migrations.

In a checkout they are the repository's own top-level `seeds/` and `migrations/`, beside
`app/`, and Alembic reads `alembic.ini` there. A wheel carries copies of both inside the
package (`innovation_atlas/bundled/`: setup.py's build hook puts them there; the repository
has no such directory), found with importlib.resources; whether they are there is what tells
an installed package from a checkout. The explorer's assets and the docs' static files live
in the package's `static/` either way, as package data.
"""

from importlib.resources import files
from pathlib import Path

NAME = __name__.rpartition(".")[0]  # `app` in a checkout, `innovation_atlas` installed
PACKAGE = Path(str(files(NAME)))
BUNDLED = PACKAGE / "bundled"


def installed() -> bool:
    """Whether this code runs from a built package (a wheel) rather than a checkout."""
    return BUNDLED.is_dir()


def shipped(name: str) -> Path:
    """`seeds` or `migrations`: the copy in the package when installed, else the checkout's."""
    return (BUNDLED if installed() else PACKAGE.parent) / name

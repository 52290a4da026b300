"""Reads of the past: which release `as_of=` names, and why a version asked for is not
served (never released here, or released and no longer kept: a 410 naming the oldest kept).

Both read the release table of the primary, which lists every release ever made; the kept
ones are those with a database in the archives (app.seeding.archive) or live on a node.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from ..errors import InvalidParameter, ProblemError
from ..models import tables as t
from ..query.cursors import VERSION_DIGITS

release = t.release
MIN_DIGITS = 12  # the fewest digits of a version a pin may give


@dataclass(frozen=True)
class Published:
    version: str
    loaded_at: datetime


def releases(connection: Connection) -> list[Published]:
    """Every release, oldest first."""
    rows = connection.execute(
        select(release.c.version, release.c.loaded_at).order_by(release.c.id)
    ).all()
    return [Published(row.version, _aware(row.loaded_at)) for row in rows]


def published_at(history: list[Published], at: datetime) -> Published | None:
    """The release current at `at`: the newest loaded before it."""
    before = [p for p in history if p.loaded_at < at]
    return max(before, key=lambda p: p.loaded_at) if before else None


def as_of_problem(history: list[Published], shown: str) -> ProblemError:
    """No release had been published by the moment `as_of=` names."""
    if history:
        first = min(history, key=lambda p: p.loaded_at)
        why = (
            f"no release had been published by {shown}; the first, "
            f"{first.version[:VERSION_DIGITS]}, was loaded at {_when(first.loaded_at)}"
        )
    else:
        why = "no release has been recorded in this database; drop as_of"
    return ProblemError(422, "invalid-parameter", f"as_of: {why}",
                        [InvalidParameter("as_of", why)])  # fmt: skip


def retired(
    history: list[Published], prefix: str, parameter: str, kept: Collection[str]
) -> ProblemError | None:
    """The 410 for a version released here that is no longer kept, or None when `prefix`
    names no such release (the caller's 409 then applies)."""
    digits = VERSION_DIGITS if parameter == "cursor" else MIN_DIGITS
    if len(prefix) < digits or (parameter == "cursor" and len(prefix) != digits):
        return None  # names no release exactly enough (a forged or damaged cursor)
    named = [p for p in history if p.version.startswith(prefix)]
    if not named or any(p.version in kept for p in named):
        return None
    gone = named[-1]
    still = [p for p in history if p.version in kept]
    oldest = (
        f"the oldest kept is {still[0].version[:VERSION_DIGITS]}, loaded at"
        f" {_when(still[0].loaded_at)}"
        if still
        else "none is kept"
    )
    why = (
        f"dataset version {prefix} (loaded at {_when(gone.loaded_at)}) is no longer kept;"
        f" {oldest}. Pin a kept version, or drop the pin to read the current one"
    )
    if parameter == "cursor":
        why += "; restart the walk from the first page"
    return ProblemError(410, "version-retired", f"{parameter}: {why}",
                        [InvalidParameter(parameter, why)])  # fmt: skip


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _when(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

"""What one worker allows its connections, fixed before workers start (they inherit the
open-files limit these derive from): how many at once, time to deliver a head, time a
response may stall unread, and how long a refused connection lingers."""

import logging
import resource
from dataclasses import dataclass

from .config import Settings

logger = logging.getLogger("uvicorn.error")

REFUSALS_LINGERING = 64  # refused connections lingering at once, each holding a file
REFUSAL_LINGER_SECONDS = 1.0
RETRY_AFTER_SECONDS = 1
RECLAIM_IDLE_SECONDS = 1.0


@dataclass(frozen=True)
class ConnectionLimits:
    """What a worker allows one connection: time to deliver a head, time a response may
    stall unread, and how many connections it holds at once."""

    head_timeout: float
    send_timeout: float
    max_connections: int


# The margin of open files kept out of the connection cap. An idle worker on SQLite holds
# 15 (stdio, the listener, the event loop, the database); each database connection takes
# up to 3 (a SQLite file, its -wal and -shm; or one socket to PostgreSQL), and SQLAlchemy's
# pool may open 10 beyond its size on SQLite. Refused connections hold one each while they
# linger, at most REFUSALS_LINGERING of them.
RESERVED_FILES = 64
FILES_PER_DATABASE_CONNECTION = 3
POOL_OVERFLOW = 10


class TooFewOpenFiles(Exception):
    """The open-files limit leaves no room for connections after the margin."""


def raise_open_files_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit, as Go's runtime does for every
    program; return the soft limit before and after. Workers inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as exc:  # a sandbox may refuse what the kernel allows
            logger.warning("Could not raise the open-files limit to %d: %s", hard, exc)
            return soft, soft
        return soft, hard
    return soft, soft


def file_margin(settings: Settings) -> int:
    """Open files per worker kept for anything but client connections: the fast and the
    slow lane each have their pool (app.query.budget), each with its overflow."""
    connections = settings.pool_size + settings.slow_threads + 2 * POOL_OVERFLOW
    database = FILES_PER_DATABASE_CONNECTION * connections
    return RESERVED_FILES + database + REFUSALS_LINGERING


def connection_cap(open_files: int, settings: Settings) -> int:
    """Connections one worker holds: `max_connections` if set, never more than the
    open-files limit less the margin."""
    room = open_files - file_margin(settings)
    if room < 1:
        raise TooFewOpenFiles(
            f"the open-files limit ({open_files}) leaves no room for connections after a"
            f" margin of {file_margin(settings)}; raise it (ulimit -n, LimitNOFILE=)"
        )
    if settings.max_connections is not None and settings.max_connections > room:
        logger.warning(
            "ATLAS_MAX_CONNECTIONS=%d exceeds what %d open files allow; using %d",
            settings.max_connections, open_files, room,
        )  # fmt: skip
        return room
    return settings.max_connections or room


def connection_limits(settings: Settings) -> ConnectionLimits:
    open_files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if open_files == resource.RLIM_INFINITY:
        open_files = 1 << 20  # Linux's default ceiling, fs.nr_open
    return ConnectionLimits(
        head_timeout=settings.head_timeout,
        send_timeout=settings.send_timeout,
        max_connections=connection_cap(open_files, settings),
    )

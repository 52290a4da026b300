"""The kept releases a worker answers pinned reads from (`version=`, `as_of=`, a cursor's
walk), each restored one a read-only node for the one version it holds; the files
themselves are app.seeding.archive's.

A restore takes seconds (3.6 s on SQLite, 10 s on PostgreSQL at the full data), so it runs
in the background, one at a time per worker: the request that asked for it waits at most
`ATLAS_RESTORE_WAIT_MS`, then answers 503 with Retry-After while the restore goes on, and
the requests after it are served from the restored database. No request runs for the
length of a restore, and a client pinning more releases in turn than stay restored keeps at
most one restore running and a few queued; past those, its pins are refused at once.
"""

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path

from .migrate import is_behind
from .nodes import Node
from .query.budget import Lanes
from .seeding.archive import archive_path, kept_versions, restore, restored_versions, revision_of

logger = logging.getLogger("atlas")

QUEUED = 2  # restores waiting behind the running one, at most; a pin past them is refused
FIRST_ESTIMATE_S = 5.0  # a restore's length before one has been timed here


class StillRestoring(Exception):
    """The release asked for is being restored (or waits its turn): retry after `seconds`."""

    def __init__(self, version: str, seconds: int, queued: bool) -> None:
        self.seconds = seconds
        state = "waits its turn to be restored" if queued else "is being restored"
        super().__init__(f"release {version} {state} from the kept releases; retry in {seconds} s")


class Restorer:
    """Restores run one at a time in a thread of their own; each version's is started once
    and every request for it waits on the same one."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="atlas-restore")
        self._running: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._took = FIRST_ESTIMATE_S

    def run(self, version: str, work: Callable[[], None], wait: float) -> None:
        """Start `work` (restoring `version`) unless it runs or waits already, and wait for
        it at most `wait` seconds. Raises StillRestoring when it has not finished by then,
        or when the queue is full (nothing is started); `work`'s own error, if it failed."""
        with self._lock:
            future = self._running.get(version)
            if future is None:
                if len(self._running) > QUEUED:
                    raise StillRestoring(version, self._retry_after(len(self._running)), True)
                future = self._executor.submit(self._timed, work)
                self._running[version] = future
                future.add_done_callback(lambda _: self._forget(version))
            ahead = list(self._running).index(version)
        try:
            future.result(timeout=wait)
        except FutureTimeout:
            raise StillRestoring(version, self._retry_after(ahead + 1), ahead > 0) from None

    def _timed(self, work: Callable[[], None]) -> None:
        started = time.monotonic()
        work()
        self._took = time.monotonic() - started

    def _forget(self, version: str) -> None:
        with self._lock:
            self._running.pop(version, None)

    def _retry_after(self, restores: int) -> int:
        """Seconds until `restores` restores, as long as the last one here took, are done."""
        return max(1, math.ceil(self._took * restores))

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


@dataclass
class Archives:
    """The kept releases (app.seeding.archive), each restored one a read-only node for the
    one version it holds, for reads pinned to a version no live database serves any longer.
    The folder is read again at every check, and when a pin names no version known; a kept
    release no database holds is restored whole (`restore`) when a pin first names it."""

    folder: Path
    lanes_for: Callable[[str], Lanes]
    url: str  # the database's: the head of the kept releases' chain, on SQLite
    wait: float = 2.0  # seconds a pinned request waits for its release's restore
    _nodes: dict[str, Node] = field(default_factory=dict)
    _kept: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _restorer: Restorer = field(default_factory=Restorer)

    def scan(self, head: str | None) -> None:
        """Open the databases of the releases restored now, let go of those removed, and
        note those restorable from `head`, the version the database holds (none when it is
        not known). A database an older schema wrote is left aside until a load migrates
        it (its statements would fail on it)."""
        found = set(restored_versions(self.folder))
        kept = set(kept_versions(self.folder, head)) if head else found
        with self._lock:
            known = set(self._nodes)
            self._kept = kept
        found = known & found | {
            v for v in found - known if not is_behind(revision_of(archive_path(self.folder, v)))
        }
        with self._lock:
            gone = [self._nodes.pop(v) for v in set(self._nodes) - found]
            for version in found - set(self._nodes):
                url = f"sqlite:///{archive_path(self.folder, version)}"
                self._nodes[version] = Node(
                    f"release-{version[:12]}", url, self.lanes_for(url), replica=True,
                    archived=True, reachable=True, version=version,
                )  # fmt: skip
        for node in gone:
            node.lanes.dispose()

    def restore(self, version: str, head: str | None) -> None:
        """Restore the kept release `version` names (whole, or its first digits), when it
        names one restorable from `head`, then open it; StillRestoring when that takes
        longer than `wait`. Blocking: run it in a thread."""
        named = [v for v in self.versions if v.startswith(version)]
        if len(named) != 1:
            return

        def work() -> None:
            if restore(self.folder, named[0], self.url) is not None:
                self.scan(head)

        self._restorer.run(named[0], work, self.wait)

    def holding(self, version: str) -> list[Node]:
        with self._lock:
            return [node for node in self._nodes.values() if node.holds(version)]

    @property
    def versions(self) -> set[str]:
        """The versions held by a restored release, or restorable, as last scanned."""
        with self._lock:
            return set(self._nodes) | self._kept

    def dispose(self) -> None:
        self._restorer.shutdown()
        with self._lock:
            nodes, self._nodes = list(self._nodes.values()), {}
        for node in nodes:
            node.lanes.dispose()

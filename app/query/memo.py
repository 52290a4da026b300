"""Answers that cannot change within a dataset version, kept per worker.

A relation filter's ids (`city=wuhan` to the places inside Wuhan), a `__ne` filter's
universe, and a capped count over bound values are functions of the data alone, and the
data of one version never changes (a load that changes anything writes a new version). So
each is read once per database and version, then answered from memory: on the benchmark's
first query (one indicator and year, by value) a page went from five statements to three,
on q6 (the same with `count=true`) from nine to three.

Entries are keyed by the database's URL as well as the version: one process may serve, or
test, several databases loaded from the same seeds. Data without a version (never loaded)
is read every time. The memory is bounded by weight, an id list weighing its length, so a
filter that names a province of a million places cannot crowd it out more than its share.
"""

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from ..facts.version import UNVERSIONED
from .snapshot import snapshot_version

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

MAX_WEIGHT = 100_000  # ids and counts held: some tens of megabytes at most
MAX_ITEM_WEIGHT = 20_000  # an answer heavier than this is read each time


def frozen(values: Mapping[str, Any]) -> Hashable:
    """Bound values as a key: lists (PostgreSQL's id arrays) as tuples."""
    return tuple(
        sorted((name, tuple(v) if isinstance(v, list) else v) for name, v in values.items())
    )


_NAMES: "weakref.WeakKeyDictionary[Engine, str]" = weakref.WeakKeyDictionary()


def database_of(connection: Connection) -> str:
    """The connection's database as its URL's text, rendered once per engine: rendering a
    URL costs some 0.1 ms, and every lookup here needs it."""
    engine = connection.engine
    name = _NAMES.get(engine)
    if name is None:
        name = _NAMES[engine] = str(engine.url)
    return name


def _weight(value: Any) -> int:
    return 1 + len(value) if isinstance(value, list | tuple | set | frozenset) else 1


class VersionMemo:
    """A bounded least-recently-used map of answers by (database, version, key)."""

    def __init__(self, max_weight: int = MAX_WEIGHT) -> None:
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._weight = 0
        self._max_weight = max_weight
        self._lock = threading.Lock()

    def get(self, connection: Connection, key: Hashable, read: Callable[[], T]) -> T:
        """`read()`, or its answer for this database and version if it was read before."""
        version = snapshot_version(connection)
        if version == UNVERSIONED:
            return read()
        full = (database_of(connection), version, key)
        with self._lock:
            found = self._entries.get(full)
            if found is not None:
                self._entries.move_to_end(full)
                answer: T = found[0]
                return answer
        answer = read()
        self._put(full, answer)
        return answer

    def get_many(
        self,
        connection: Connection,
        keys: Sequence[K],
        read: Callable[[list[K]], Mapping[K, T]],
        prefix: Hashable = None,
    ) -> dict[K, T]:
        """Each key's answer: those read before for this database and version from memory,
        the others by one `read(missing keys)`, which answers every key it is given."""
        version = snapshot_version(connection)
        if version == UNVERSIONED:
            return dict(read(list(keys)))
        url = database_of(connection)
        found: dict[K, T] = {}
        missing: list[K] = []
        with self._lock:
            for key in keys:
                entry = self._entries.get((url, version, prefix, key))
                if entry is None:
                    missing.append(key)
                else:
                    self._entries.move_to_end((url, version, prefix, key))
                    found[key] = entry[0]
        if missing:
            answers = read(missing)
            for key in missing:
                found[key] = answers[key]
                self._put((url, version, prefix, key), answers[key])
        return found

    def _put(self, full: Hashable, answer: Any) -> None:
        weight = _weight(answer)
        if weight > MAX_ITEM_WEIGHT:
            return
        with self._lock:
            previous = self._entries.pop(full, None)
            if previous is not None:
                self._weight -= previous[1]
            self._entries[full] = (answer, weight)
            self._weight += weight
            while self._weight > self._max_weight:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._weight -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._weight = 0


ANSWERS = VersionMemo()

"""Values that name rows: whether each names one, and what a value that names none meant.

A relation filter (`city=`, `indicator=`) or a key in a path whose value names no row is
refused with the nearest names, never answered with an empty page: to a reader an empty
page says "no data", not "no such place". The rules:

- A value names a row when it is the row's key (a slug, a code, a source id), of a level the
  filter takes where it takes only some (`city=` names cities).
- What it may have meant is read from the search entries of the kind (names in English and
  Chinese, keys, division codes), compared *squashed*: case, spaces, `-`, `_` and a trailing
  市/县/区/省 (city, county, district, province) left out. Equal squashed names come first,
  then names within a few edits (transpositions count as one), then names it begins.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, Table, select
from sqlmodel import SQLModel

from ..errors import InvalidParameter, ProblemError, shown
from ..facts.names import squash
from ..facts.version import UNVERSIONED
from .expressions import IdSet
from .snapshot import snapshot_version
from .statements import fetch_all, slot

SUGGESTIONS = 5


@dataclass(frozen=True)
class Names:
    """What a filter's values name: rows of `table` by its `column`."""

    table: str
    column: str
    noun: str  # "city", "indicator category": in the refusal
    search: str | None = None  # the search entries' kind that offers suggestions
    levels: tuple[str, ...] | None = None  # places: only rows of these levels count

    def rows(self) -> Table:
        return SQLModel.metadata.tables[self.table]


def distance(a: str, b: str, cap: int) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from `a` to `b`; `cap + 1` as
    soon as it is known to exceed `cap`."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    before: list[int] | None = None
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, y in enumerate(b, start=1):
            cost = 0 if x == y else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if before is not None and j > 1 and x == b[j - 2] and a[i - 2] == y:
                best = min(best, before[j - 2] + 1)
            current[j] = best
        if min(current) > cap:
            return cap + 1
        before, previous = previous, current
    return previous[-1]


def _tolerance(value: str) -> int:
    """Edits a value of this length may be off by: a Chinese character says as much as a
    syllable, so two of them allow none (德阳 is not a misspelt 朝阳); a division code
    allows none either (110106 is another district, not a misspelt 110105)."""
    if value.isdigit():
        return 0
    if not value.isascii():
        return 0 if len(value) <= 2 else 1
    return 1 if len(value) <= 5 else 2 if len(value) <= 10 else 3


Squashed = tuple[str, str | None]
Candidate = tuple[str, tuple[Squashed, ...]]  # a row's key and its names, squashed


def candidate(key: str, names: Iterable[str | None]) -> Candidate:
    squashed = dict.fromkeys(squash(name) for name in names if name)
    return key, tuple(name for name in squashed if name[0])


def closest(value: str, candidates: Iterable[Candidate]) -> list[tuple[int, str]]:
    """The keys of the candidates nearest `value`, best first, with a score: 0 for a name
    equal once squashed, 1 for one equal but for a trailing word one of them leaves off
    (`hefei city`, 合肥 for 合肥市), then 1 + the edits to the nearest name (up to a few, by
    length; another trailing word counts as one), then one more for a name `value` begins.
    Names farther off are left out."""
    stem, suffix = squash(value)
    if not stem:
        return []
    cap = _tolerance(stem)
    size = len(stem)
    scored: dict[str, int] = {}
    for key, names in candidates:
        for other, other_suffix in names:
            if abs(len(other) - size) > cap:
                if size < 3 or not other.startswith(stem):
                    continue
                score = cap + 2
            else:
                edits = distance(stem, other, cap)
                if suffix != other_suffix and edits == 0:
                    score = 1 if suffix is None or other_suffix is None else 2
                elif edits <= cap:
                    score = edits + (1 if edits else 0)
                elif size >= 3 and other.startswith(stem):
                    score = cap + 2
                else:
                    continue
            scored[key] = min(score, scored.get(key, score))
    ranked = sorted((score, len(key), key) for key, score in scored.items())
    return [(score, key) for score, _, key in ranked]


def same(ranked: Sequence[tuple[int, str]]) -> list[str]:
    """The keys a value names, from `closest`: those equal to it, else those equal but for
    a trailing word one leaves off."""
    best = min((score for score, _ in ranked), default=2)
    return [key for score, key in ranked if score == best] if best <= 1 else []


def _entries_statement(names: Names) -> Select[Any]:
    entry = SQLModel.metadata.tables["search_entry"]
    statement = select(entry.c.key, entry.c.folded, entry.c.name, entry.c.name_local).where(
        entry.c.kind == slot("kind")
    )
    if names.levels is not None:
        place = SQLModel.metadata.tables["place"]
        statement = statement.join(place, place.c.id == entry.c.entity_id).where(
            place.c.level.in_(names.levels)
        )
    return statement


_MEMO: "OrderedDict[tuple[str, Hashable], list[Candidate]]" = OrderedDict()
_MEMO_SIZE = 16
_MEMO_LOCK = threading.Lock()


def memoised(
    connection: Connection, shape: Hashable, read: Callable[[], list[Candidate]]
) -> list[Candidate]:
    """`read()`, kept per dataset version: squashing every place's names takes tens of
    milliseconds, and a version's names never change. Unversioned data is read each time."""
    version = snapshot_version(connection)
    if version == UNVERSIONED:
        return read()
    with _MEMO_LOCK:
        found = _MEMO.get((version, shape))
        if found is not None:
            _MEMO.move_to_end((version, shape))
            return found
    result = read()
    with _MEMO_LOCK:
        _MEMO[(version, shape)] = result
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return result


def candidates(connection: Connection, names: Names) -> list[Candidate]:
    """Every row a value of `names` may have meant, with its names."""
    if names.search is None:  # a group (an indicator category): its values are its names
        column = names.rows().c[names.column]

        def groups() -> list[Candidate]:
            rows = fetch_all(
                connection, ("names-groups", names.table, names.column),
                lambda: select(column.label("key")).where(column.is_not(None)).distinct(), {},
            )  # fmt: skip
            return [candidate(row["key"], [row["key"]]) for row in rows]

        return memoised(connection, names, groups)

    def entries() -> list[Candidate]:
        rows = fetch_all(
            connection, ("names-entries", names.levels), lambda: _entries_statement(names),
            {"kind": names.search},
        )  # fmt: skip
        return [
            candidate(row["key"], [row["name"], row["name_local"], *row["folded"].split("\n")])
            for row in rows
        ]

    return memoised(connection, names, entries)


def suggestions(connection: Connection, names: Names, value: str) -> list[str]:
    return [key for _, key in closest(value, candidates(connection, names))[:SUGGESTIONS]]


def _named_statement(names: Names) -> Select[Any]:
    table = names.rows()
    columns = [table.c[names.column].label("key")]
    if names.levels is not None:
        columns.append(table.c.level.label("level"))
    return select(*columns).where(IdSet(table.c[names.column], slot("keys")))


_CHECKED: "OrderedDict[tuple[str, Hashable, tuple[Any, ...]], list[tuple[str, str | None]]]" = (
    OrderedDict()
)
_CHECKED_SIZE = 4096


def unnamed(
    connection: Connection, names: Names, values: Sequence[Any], id_set: Any
) -> list[tuple[str, str | None]]:
    """The values that name no row, each with the level of the row it names when that is
    not one the filter takes (`city=hubei` names a province); `id_set` binds the values.

    Kept per dataset version, as the candidates are: the answer cannot change within a
    version, and asking each time cost every list request one more statement (q1 of the
    benchmark, one indicator and year, ran at 0.93x Datasette with it)."""
    version = snapshot_version(connection)
    key = (version, names, tuple(values))
    if version != UNVERSIONED:
        with _MEMO_LOCK:
            found = _CHECKED.get(key)
            if found is not None:
                _CHECKED.move_to_end(key)
                return found
    missing = _unnamed(connection, names, values, id_set)
    if version != UNVERSIONED:
        with _MEMO_LOCK:
            _CHECKED[key] = missing
            while len(_CHECKED) > _CHECKED_SIZE:
                _CHECKED.popitem(last=False)
    return missing


def _unnamed(
    connection: Connection, names: Names, values: Sequence[Any], id_set: Any
) -> list[tuple[str, str | None]]:
    rows = fetch_all(
        connection, ("names-named", names.table, names.column, names.levels is None),
        lambda: _named_statement(names), {"keys": id_set},
    )  # fmt: skip
    levels = {row["key"]: row.get("level") for row in rows}
    missing: list[tuple[str, str | None]] = []
    for value in values:
        if value not in levels:
            missing.append((str(value), None))
        elif names.levels is not None and levels[value] not in names.levels:
            missing.append((str(value), levels[value]))
    return missing


def no_such(
    connection: Connection,
    names: Names,
    parameter: str,
    value: str,
    level: str | None = None,
    *,
    location: str = "query",
    status: int = 422,
) -> ProblemError:
    """The refusal of a value that names nothing: what it is not, and the nearest names."""
    if level is not None:
        why = f"{shown(value)} is a {level}, not a {names.noun}"
    else:
        why = f"no {names.noun} {shown(value)}"
    near = suggestions(connection, names, value)
    if near:
        why += f"; did you mean {' or '.join(near)}?"
    kind = "not-found" if status == 404 else "invalid-parameter"
    return ProblemError(
        status, kind, f"{parameter}: {why}", [InvalidParameter(parameter, why, location, near)]
    )

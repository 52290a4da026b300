"""The history of China's division codes: each code no longer in use, the years it was,
and the places its area lies in today.

The rows are `result.csv` of yescallop/areacodes (CC0 1.0), kept byte for byte under
`seeds/divisions/`: every code at or above county level since 1980, with the year it came
into use, the year it was changed or abolished, and the codes its area went to then (a
list, `;`-separated; an entry with a `[year]` is a part transferred in that year while the
division went on, not its fate). One code may have several rows over time: 320611 was a
郊区 until 1991 and 港闸区 after.

A former code is followed from row to row (the successor's row is the one of its code in
use in the year of the change) until codes in use today, which name places. How the old
division and the place relate is the `CodeChange`: the same division under a new code or
name (`recoded`), part of a place together with other divisions (`merged`), or shared
among several places (`split`). Only a recoded division's figures describe the place's
area; the others name the place for finding it, not for its series.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ..models.vocabulary import CodeChange
from .errors import SeedProblem, checksum_problem

HISTORY_SOURCE = "division-code-history"
HISTORY_FILE = "divisions/code-history.csv"
IN_USE = "在用"
CODE_COLUMN = 1  # the column a former code is read from, for its locator
_RANK = {CodeChange.recoded: 0, CodeChange.merged: 1, CodeChange.split_among: 2}


@dataclass(frozen=True)
class CodeRow:
    """One row of the history: a code as it was between two years."""

    line: int  # the row's number in the file, the header being row 1
    code: str
    name_local: str
    valid_from: int
    valid_to: int | None  # the year it was changed or abolished; None: in use
    successors: tuple[str, ...]  # the codes its area went to when it ended

    @property
    def key(self) -> tuple[str, int]:
        return self.code, self.valid_from


@dataclass(frozen=True)
class Fate:
    """Where a former code's area lies today: the codes in use, and how it got there."""

    codes: frozenset[str]
    change: CodeChange


class CodeHistory:
    """The rows of the history, and where each former code's area lies today."""

    def __init__(self, rows: list[CodeRow]) -> None:
        self.rows = rows
        self._by_code: dict[str, list[CodeRow]] = {}
        for row in rows:
            self._by_code.setdefault(row.code, []).append(row)
        self._fates: dict[tuple[str, int], Fate | None] = {}

    def at(self, code: str, year: int) -> CodeRow | None:
        """The row of `code` in use in `year` (from that year on, or before and still)."""
        for row in self._by_code.get(code, ()):
            if row.valid_from <= year and (row.valid_to is None or row.valid_to > year):
                return row
        return None

    @cached_property
    def _merged_into(self) -> dict[tuple[str, int], int]:
        """How many ended rows went, whole or in part, to each row: a row that more than
        one went to is a merger of them."""
        counts: dict[tuple[str, int], int] = {}
        for row in self.rows:
            if row.valid_to is None:
                continue
            for code in row.successors:
                after = self.at(code, row.valid_to)
                if after is not None:
                    counts[after.key] = counts.get(after.key, 0) + 1
        return counts

    def _recoded(self, row: CodeRow, after: CodeRow) -> bool:
        """Whether `after` is `row`'s division under a new code or name: begun the year
        `row` ended, from `row` alone. A division that was there before took `row` in."""
        return after.valid_from == row.valid_to and self._merged_into.get(after.key, 0) == 1

    def fate(self, row: CodeRow) -> Fate | None:
        """The codes in use today that `row`'s area lies in; None when the history does
        not say (no successor given, or one that leads nowhere)."""
        if row.valid_to is None:
            return Fate(frozenset({row.code}), CodeChange.recoded)
        if row.key not in self._fates:
            # No chain comes back to a row: a successor is the row in use after the change,
            # so the years only grow along it.
            self._fates[row.key] = self._follow(row)
        return self._fates[row.key]

    def _follow(self, row: CodeRow) -> Fate | None:
        assert row.valid_to is not None
        after = [self.at(code, row.valid_to) for code in row.successors]
        found = [a for a in after if a is not None]
        if not found or len(found) != len(after):
            return None
        fates = [self.fate(a) for a in found]
        known = [f for f in fates if f is not None]
        if len(known) != len(fates):
            return None
        codes = frozenset().union(*(f.codes for f in known))
        change = max((f.change for f in known), key=_RANK.__getitem__)
        if len(codes) > 1:
            change = CodeChange.split_among
        elif len(found) > 1 or (change is CodeChange.recoded and not self._recoded(row, found[0])):
            change = CodeChange.merged  # all of it in one place today, with other divisions
        return Fate(codes, change)


def in_use(history: CodeHistory) -> list[tuple[str, str]]:
    """The codes in use today, with their divisions' names."""
    return [(row.code, row.name_local) for row in history.rows if row.valid_to is None]


def read_history(
    root: Path, sha256: str | None, recorded_in: str
) -> tuple[CodeHistory | None, list[SeedProblem]]:
    """The history file under `root`, refused when its bytes are not the `sha256` recorded
    in the seed file `recorded_in`."""
    try:
        raw = (root / HISTORY_FILE).read_bytes()
    except OSError as exc:
        return None, [SeedProblem(HISTORY_FILE, None, None, f"cannot read it: {exc.strerror}")]
    why = ": the file changed after its checksum was recorded"
    where = (recorded_in, f"source {HISTORY_SOURCE}")
    changed = checksum_problem(raw, sha256, where, HISTORY_FILE, why)
    if changed is not None:
        return None, [changed]
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    rows, problems = [], []
    for number, line in enumerate(lines[1:], start=2):
        try:
            rows.append(code_row(number, line))
        except (ValueError, IndexError) as exc:
            problems.append(SeedProblem(HISTORY_FILE, f"row {number}", None, str(exc)))
    return CodeHistory(rows), problems


def code_row(number: int, line: list[str]) -> CodeRow:
    """One row of the file, numbered as the file counts (the header is row 1)."""
    code, _province, _prefecture, name, _level, status, since, until, after = line[:9]
    if len(code) != 6 or not code.isdigit():
        raise ValueError(f"code {code!r} is not six digits")
    successors = tuple(s for s in after.split(";") if s and "[" not in s)
    return CodeRow(
        line=number,
        code=code,
        name_local=name,
        valid_from=int(since),
        valid_to=None if status == IN_USE else int(until),
        successors=successors,
    )


def history_rows(history: CodeHistory, place_ids: dict[str, int]) -> Iterator[dict[str, Any]]:
    """A `former_code` row for each ended code and each place of today its area lies in.

    `place_ids` is each place's id by its code today. A code whose fate the history does
    not give, or whose area lies in no place the atlas has, gives no row; nor does a place's
    own code today under an earlier name or parent (the same code, recoded)."""
    for row in history.rows:
        if row.valid_to is None:
            continue
        fate = history.fate(row)
        if fate is None:
            continue
        for code in sorted(fate.codes):
            place_id = place_ids.get(code)
            if place_id is None or (code == row.code and fate.change is CodeChange.recoded):
                continue  # no such place; or the place's own code, only renamed since
            yield {
                "place_id": place_id,
                "code": row.code,
                "name_local": row.name_local,
                "year": row.valid_to - 1,
                "valid_from": row.valid_from,
                "valid_to": row.valid_to,
                "change": fate.change.value,
                "source_id": HISTORY_SOURCE,
                "locator_row": row.line,
                "locator_column": CODE_COLUMN,
            }

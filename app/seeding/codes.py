"""Former division codes, read from the official tables: where a table gives a place's
row a code other than the one the place has today, that code was the place's in the
table's year (a county since made a district, a prefecture since made a city, each with
a new code). The row is the citation, the code cell the locator."""

import re
from collections.abc import Iterator
from typing import Any

from ..models.vocabulary import CodeChange
from .cells import Table

CODE_COLUMN = "code"
NAME_COLUMN = "region"
YEAR_COLUMN = "year"
_CODE = re.compile(r"^\d{6}$")


def former_code_rows(
    tables: list[Table], place_ids: dict[str, int], codes: dict[str, str | None]
) -> Iterator[dict[str, Any]]:
    """One row per table row that gives a place a six-digit code it no longer has.

    `codes` is each place's code today, by slug. A row is read once however many of its
    cells are facts; rows without a code, or with today's, say nothing of the past."""
    for table in tables:
        header = table.rows[0]
        if not {CODE_COLUMN, NAME_COLUMN, YEAR_COLUMN} <= set(header):
            continue
        code_at, name_at, year_at = (header.index(c) for c in (CODE_COLUMN, NAME_COLUMN,
                                                               YEAR_COLUMN))  # fmt: skip
        seen: set[int] = set()
        for fact in table.facts:
            row_number = fact.cell()[0]
            if row_number in seen:
                continue
            seen.add(row_number)
            row = table.rows[row_number - 1]
            code = row[code_at]
            if not _CODE.match(code) or code == codes.get(fact.place):
                continue
            yield {
                "place_id": place_ids[fact.place],
                "code": code,
                "name_local": row[name_at],
                "year": int(row[year_at]),
                "valid_from": None,
                "valid_to": None,
                "change": CodeChange.recoded.value,
                "source_id": table.source.id,
                "locator_row": row_number,
                "locator_column": code_at + 1,
            }

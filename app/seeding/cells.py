"""Facts read from the cells of published statistical tables.

A table source is a CSV file under `seeds/tables/` (the table as published, cleaned by the
conversion script in `scripts/tables/`) and a facts file beside it: one line per value,
with the cell it was read from as an RFC 7111 fragment (`cell=ROW,COLUMN`, both counted
from 1, the header line being row 1). The checks hold every fact to its cell the way a
document's facts are held to their spans: the file's bytes to the recorded checksum, the
cell to the table's bounds, the cell's text to `stated`, and `stated` times the factor of
the unit the table states to the value in the indicator's normalised unit.
"""

import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..models.vocabulary import Qualifier, SubjectKind, Unit
from .errors import SeedProblem, checksum_problem
from .periods import parse_period
from .records import TableSourceRecord

TABLES_DIR = "tables"
TABLES_FILE = "tables.yaml"
FACT_COLUMNS = ("key", "indicator", "place", "period", "value", "stated", "unit_stated", "at")
# The columns of a table that say which place and year a row is about: its row label.
ROW_LABEL_COLUMNS = ("region", "year")

# The units statistical tables state, with the factor and the normalised unit they become.
STATED_UNITS: dict[str, tuple[Decimal, Unit]] = {
    "亿元": (Decimal(10**8), Unit.CNY),
    "万元": (Decimal(10**4), Unit.CNY),
    "元": (Decimal(1), Unit.CNY),
    "件": (Decimal(1), Unit.COUNT),
    "项": (Decimal(1), Unit.COUNT),
    "个": (Decimal(1), Unit.COUNT),
    "家": (Decimal(1), Unit.COUNT),
    "人": (Decimal(1), Unit.COUNT),
    "万人": (Decimal(10**4), Unit.COUNT),
    "户": (Decimal(1), Unit.COUNT),
    "篇": (Decimal(1), Unit.COUNT),
    "人年": (Decimal(1), Unit.PERSON_YEARS),
    "万人年": (Decimal(10**4), Unit.PERSON_YEARS),
    "%": (Decimal(1), Unit.PERCENT),
    "比": (Decimal(1), Unit.RATIO),
    "人/户": (Decimal(1), Unit.RATIO),
    "位": (Decimal(1), Unit.RANK),
}

# What a document's observation row holds in the cell columns.
NO_CELL: dict[str, Any] = dict.fromkeys(
    ("locator_row", "locator_column", "row_label", "column_label", "cell_unit")
)

_CELL = re.compile(r"^cell=([1-9]\d*),([1-9]\d*)$")
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,119}$")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")
_YEAR = re.compile(r"^\d{4}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True)
class Fact:
    """One line of a facts file, as written (checked by `fact_problems`)."""

    line: int  # of the facts file, the header being line 1
    key: str
    indicator: str
    place: str
    period: str
    value: str
    stated: str
    unit_stated: str
    at: str

    def cell(self) -> tuple[int, int]:
        match = _CELL.match(self.at)
        if match is None:
            raise ValueError(f"locator {self.at!r} is not of the form cell=ROW,COLUMN")
        return int(match.group(1)), int(match.group(2))


@dataclass(frozen=True)
class Table:
    """A table source read from disk: its manifest entry, its rows and its facts."""

    source: TableSourceRecord
    rows: list[list[str]]
    facts: list[Fact]

    @property
    def file(self) -> str:
        return f"{TABLES_DIR}/{self.source.file}"

    @property
    def facts_file(self) -> str:
        return f"{TABLES_DIR}/{self.source.facts}"

    def labels(self, row: int, column: int) -> tuple[str, str]:
        """What a cell is about: the row's place and year, and the column's header."""
        header = self.rows[0]
        line = self.rows[row - 1]
        named = [line[header.index(c)] for c in ROW_LABEL_COLUMNS if c in header]
        return " ".join(part for part in named if part), header[column - 1]


def read_tables(
    root: Path, sources: list[TableSourceRecord]
) -> tuple[list[Table], list[SeedProblem]]:
    """Read each table and its facts, refusing a file whose bytes are not those recorded."""
    tables: list[Table] = []
    problems: list[SeedProblem] = []
    for source in sources:
        table = _read_table(root, source, problems)
        if table is not None:
            tables.append(table)
    return tables, problems


def _read_table(root: Path, source: TableSourceRecord, problems: list[SeedProblem]) -> Table | None:
    name = f"{TABLES_DIR}/{source.file}"
    try:
        raw = (root / name).read_bytes()
    except OSError as exc:
        problems.append(SeedProblem(name, None, None, f"cannot read the table: {exc.strerror}"))
        return None
    why = ": the file changed after its checksum was recorded"
    changed = checksum_problem(raw, source.sha256, (TABLES_FILE, f"table {source.id}"), name, why)
    if changed is not None:
        problems.append(changed)
        return None
    try:
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        problems.append(SeedProblem(name, None, None, f"not a UTF-8 CSV table: {exc}"))
        return None
    facts = _read_facts(root, f"{TABLES_DIR}/{source.facts}", problems)
    return None if facts is None else Table(source, rows, facts)


def _read_facts(root: Path, name: str, problems: list[SeedProblem]) -> list[Fact] | None:
    try:
        text = (root / name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(SeedProblem(name, None, None, f"cannot read the facts: {exc}"))
        return None
    lines = csv.reader(io.StringIO(text, newline=""))
    header = next(lines, [])
    if tuple(header) != FACT_COLUMNS:
        problems.append(
            SeedProblem(name, "row 1", None, f"the header must be {','.join(FACT_COLUMNS)}")
        )
        return None
    facts = []
    for number, line in enumerate(lines, start=2):
        if len(line) != len(FACT_COLUMNS):
            problems.append(
                SeedProblem(name, f"row {number}", None, f"has {len(line)} fields, not 8")
            )
            continue
        facts.append(Fact(number, *line))
    return facts


@dataclass
class Known:
    """The names the facts may use, gathered by the checks across every seed file."""

    places: set[str]
    indicators: dict[str, str]  # unit by code
    keys: dict[str, str]  # the file each observation key is defined in


def table_problems(table: Table, known: Known) -> Iterator[SeedProblem]:
    for fact in table.facts:
        yield from fact_problems(table, fact, known)


def fact_problems(table: Table, fact: Fact, known: Known) -> Iterator[SeedProblem]:
    name, record = table.facts_file, f"row {fact.line} (key {fact.key})"
    if not _KEY.match(fact.key):
        yield SeedProblem(name, record, "key", "must be lower-case letters, digits and hyphens")
    elif fact.key in known.keys:
        defined = known.keys[fact.key]
        yield SeedProblem(name, record, "key", f"{fact.key!r} is already defined in {defined}")
    else:
        known.keys[fact.key] = name
    if fact.place not in known.places:
        yield SeedProblem(name, record, "place", f"unknown place {fact.place!r}")
    if not _YEAR.match(fact.period):
        yield SeedProblem(name, record, "period", f"{fact.period!r} is not a year")
    unit = known.indicators.get(fact.indicator) if _CODE.match(fact.indicator) else None
    if unit is None:
        yield SeedProblem(name, record, "indicator", f"unknown indicator {fact.indicator!r}")
    yield from _cell_problems(table, fact, unit, record)


def _cell_problems(
    table: Table, fact: Fact, unit: str | None, record: str
) -> Iterator[SeedProblem]:
    name = table.facts_file
    try:
        row, column = fact.cell()
    except ValueError as exc:
        yield SeedProblem(name, record, "at", str(exc))
        return
    if row > len(table.rows) or column > len(table.rows[row - 1]):
        yield SeedProblem(
            name,
            record,
            "at",
            f"{fact.at} lies outside {table.file} ({len(table.rows)} rows,"
            f" {len(table.rows[min(row, len(table.rows)) - 1])} columns in that row)",
        )
        return
    found = table.rows[row - 1][column - 1]
    if found != fact.stated:
        message = f"{table.file} {fact.at} holds {found!r}, not {fact.stated!r}"
        yield SeedProblem(name, record, "stated", message)
        return
    stated_unit = STATED_UNITS.get(fact.unit_stated)
    if stated_unit is None:
        yield SeedProblem(
            name, record, "unit_stated",
            f"unknown unit {fact.unit_stated!r} (known: {', '.join(STATED_UNITS)})",
        )  # fmt: skip
        return
    factor, normalised = stated_unit
    if unit is not None and normalised.value != unit:
        yield SeedProblem(
            name, record, "unit_stated",
            f"{fact.unit_stated} is {normalised.value}, but {fact.indicator} is in {unit}",
        )  # fmt: skip
    yield from _value_problems(fact, factor, record, name)


def _value_problems(fact: Fact, factor: Decimal, record: str, name: str) -> Iterator[SeedProblem]:
    if not _NUMBER.match(fact.stated):
        yield SeedProblem(name, record, "stated", f"{fact.stated!r} is not a number")
        return
    try:
        value = float(fact.value)
    except ValueError:
        yield SeedProblem(name, record, "value", f"{fact.value!r} is not a number")
        return
    try:
        expected = Decimal(fact.stated) * factor
    except InvalidOperation:  # pragma: no cover (the pattern above admits only numbers)
        return
    if not math.isfinite(value) or not math.isclose(value, float(expected), rel_tol=1e-9):
        yield SeedProblem(
            name, record, "value",
            f"{fact.value} is not what the cell states: {fact.stated} {fact.unit_stated}"
            f" is {expected.normalize():f}",
        )  # fmt: skip


def observation_rows(
    tables: list[Table], places: dict[str, int], indicators: dict[str, int]
) -> list[dict[str, Any]]:
    """The observation rows of every table's facts (checked before), in the shape the
    document kinds write, with the cell in place of a span."""
    rows = []
    for table in tables:
        for fact in table.facts:
            row, column = fact.cell()
            row_label, column_label = table.labels(row, column)
            period = parse_period(fact.period)
            rows.append(
                {
                    "key": fact.key,
                    "indicator_id": indicators[fact.indicator],
                    "subject_kind": SubjectKind.place.value,
                    "place_id": places[fact.place],
                    "cluster_id": None,
                    "program_id": None,
                    "period_label": period.label,
                    "period_start": period.start,
                    "period_end": period.end,
                    "period_precision": period.precision.value,
                    "year": period.year,
                    "value": float(fact.value),
                    "stated": f"{fact.stated} {fact.unit_stated}",
                    "qualifier": Qualifier.exact.value,
                    "derived": False,
                    "formula": None,
                    "ambiguity": None,
                    "note": None,
                    "source_id": table.source.id,
                    "locator_start": None,
                    "locator_end": None,
                    "quote": fact.stated,
                    "locator_row": row,
                    "locator_column": column,
                    "row_label": row_label[:200],
                    "column_label": column_label[:200],
                    "cell_unit": fact.unit_stated,
                }
            )
    return rows

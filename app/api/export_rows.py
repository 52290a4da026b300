"""How a list's items become rows of an export: CSV columns from the item's documented
schema (nested objects flattened to dotted names), cell text safe to open in a
spreadsheet, and NDJSON lines."""

import csv
import io
import re
from collections.abc import Sequence
from datetime import date
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin

import orjson
from pydantic import BaseModel

# A spreadsheet runs a cell as a formula (CSV injection) when it starts with one of these,
# or with spaces and then one of these; fullwidth forms count (LibreOffice and Excel with
# East Asian input read them as the ASCII ones); a cell that starts with a tab or a line
# break is guarded too (some spreadsheets strip them, then read what follows).
FORMULA_SIGNS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
LEADING_BREAKS = ("\t", "\r", "\n")
LEADING_SPACES = " \u00a0\u3000"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if get_origin(annotation) in (Union, UnionType):
        for argument in get_args(annotation):
            if argument is not NoneType:
                return _model_of(argument)
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def columns(model: type[BaseModel], prefix: str = "") -> list[str]:
    """The item model's fields as flat column names: nested models become `parent.child`."""
    names: list[str] = []
    for name, info in model.model_fields.items():
        nested = _model_of(info.annotation)
        if nested is None:
            names.append(prefix + name)
        else:
            names.extend(columns(nested, f"{prefix}{name}."))
    return names


def flatten(item: dict[str, Any], names: Sequence[str]) -> list[Any]:
    row = []
    for name in names:
        value: Any = item
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        row.append(value)
    return row


def cell(value: Any) -> str:
    """A value as CSV text: empty for null, `true`/`false`, ISO dates, and text that a
    spreadsheet would run as a formula prefixed with an apostrophe."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):  # keys (conflicts_with, facts cited): one cell, comma-separated;
        # sentences (a ranking entry's `differs`, which hold commas), separated by "; "
        items = [str(item["key"]) if isinstance(item, dict) else str(item) for item in value]
        separator = "; " if any(" " in item for item in items) else ","
        return cell(separator.join(items)) if items else ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return str(int(value))
    text = str(value)
    return "'" + text if is_formula(text) else text


def is_formula(text: str) -> bool:
    """Whether a spreadsheet could run `text` as a formula; a plain number is data."""
    if text.startswith(LEADING_BREAKS):
        return True
    lead = text.lstrip(LEADING_SPACES)[:1]
    return lead in FORMULA_SIGNS and not _NUMBER.fullmatch(text)


# A negative number is data, not a formula: "-3.5" stays as it is.
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


class CsvWriter:
    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def header(self) -> bytes:
        self._writer.writerow(self.names)
        return self._take()

    def rows(self, items: Sequence[dict[str, Any]]) -> bytes:
        for item in items:
            self._writer.writerow([cell(v) for v in flatten(item, self.names)])
        return self._take()

    def _take(self) -> bytes:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode("utf-8")


def ndjson_rows(items: Sequence[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(item) + b"\n" for item in items)


# Streaming ----------------------------------------------------------------------------------

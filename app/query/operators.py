"""The operators of the query language, one registry entry each.

An entry says how the operator is written (`field__name`), how many values it takes, what
kind they are read as, the SQL it produces and its wording in the OpenAPI document. Filters
name the operators they accept; the parser, the SQL builder and the documentation all read
this table, so adding an operator is one entry here and its name in the filters it suits
(plus, if an index can serve it, its kind of use in `app.query.execute._use`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, func, or_


class Arity(Enum):
    ONE = "one"  # one value of the field's kind
    MANY = "many"  # a comma-separated list of the field's kind
    FLAG = "flag"  # true or false, whatever the field's kind
    TEXT = "text"  # one free-text value, whatever the field's kind


# (column, bound values, parsed values, column may be null) -> condition
Build = Callable[[ColumnElement[Any], list[Any], list[Any], bool], ColumnElement[bool]]


@dataclass(frozen=True)
class Operator:
    name: str
    phrase: str  # completes "<filter description> (...)" in the docs
    arity: Arity
    build: Build

    @property
    def suffix(self) -> str:
        return "" if self.name == "exact" else f"__{self.name}"


def _not_equal(
    column: ColumnElement[Any], bound: list[Any], _values: list[Any], nullable: bool
) -> ColumnElement[bool]:
    # "not 2020" includes the rows that have no year at all; __isnull=false excludes them.
    different = column != bound[0]
    return or_(different, column.is_(None)) if nullable else different


def _is_null(
    column: ColumnElement[Any], _bound: list[Any], values: list[Any], _nullable: bool
) -> ColumnElement[bool]:
    # The flag changes the statement, not a bound value: two shapes, each indexable.
    return column.is_(None) if values[0] else column.is_not(None)


def _contains(
    column: ColumnElement[Any], bound: list[Any], _values: list[Any], _nullable: bool
) -> ColumnElement[bool]:
    return func.lower(column).like(bound[0], escape="\\")  # bound to like_pattern(text)


_ENTRIES = (
    Operator("exact", "equal to", Arity.ONE, lambda c, b, _v, _n: c == b[0]),
    Operator("ne", "not equal to; rows with no value count as different", Arity.ONE, _not_equal),
    Operator("gt", "greater than", Arity.ONE, lambda c, b, _v, _n: c > b[0]),
    Operator("gte", "greater than or equal to", Arity.ONE, lambda c, b, _v, _n: c >= b[0]),
    Operator("lt", "less than", Arity.ONE, lambda c, b, _v, _n: c < b[0]),
    Operator("lte", "less than or equal to", Arity.ONE, lambda c, b, _v, _n: c <= b[0]),
    Operator("in", "any of (comma-separated)", Arity.MANY, lambda c, b, _v, _n: c.in_(b)),
    Operator("contains", "contains, ignoring case", Arity.TEXT, _contains),
    Operator("isnull", "true: has no value; false: has one", Arity.FLAG, _is_null),
)
OPERATORS: dict[str, Operator] = {entry.name: entry for entry in _ENTRIES}

# The usual sets, for declaring filters. `isnull` is added by the filter when its column
# can be null (see Filter), so it is offered exactly where it means something.
SET_OPERATORS = ("exact", "ne", "in")
RANGE_OPERATORS = ("exact", "ne", "gt", "gte", "lt", "lte", "in")
TEXT_OPERATORS = ("exact", "ne", "in", "contains")
# Lookup filters compare resolved ids: equality, difference and membership only.
LOOKUP_OPERATORS = ("exact", "ne", "in")


def like_pattern(text: str) -> str:
    """A case-folded LIKE pattern matching `text` literally anywhere."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"

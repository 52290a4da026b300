"""SQL the planner needs that SQLAlchemy does not spell for every engine.

`Unindexed(column)`: the same value, but no index may serve a condition or an order on it,
so the engine takes the access path the planner chose. SQLite's documented way is a unary
`+`; PostgreSQL uses no index for an expression, so the column gets a no-op one (`+ 0`,
`|| ''`, `coalesce(flag, flag)`: PostgreSQL folds `flag OR false` back to `flag`) of its
type.

`unserved(build, column)`: a condition no index may serve. SQLite gets it with its
column unindexed; PostgreSQL gets `(condition) IS TRUE`, which no index matches but whose
selectivity the planner reads from the column's statistics. The no-op expressions lost
them: each such condition was estimated to keep 0.5% of the rows, so at 3M rows a walk of
the period_end index for 201 rows that two of them kept 166,000 of was planned as a sort
of them all (`source__in=…&qualifier__in=…&sort=-period_end`: 567 ms).

`IdSet(column, slot)`: `column IN (a list of ids bound as one parameter)`. A resolved
relation can be thousands of ids (every place in a province); one parameter keeps the
statement text, and so the statement cache, independent of the list's length.

`on_index(statement, table, index)`: on SQLite, `table INDEXED BY index`: the planner's
index and no other, where two indexes serve the same conditions and the engine's estimates
pick the one the plan did not (a few cities of every indicator read along the indicator
index: 491 ms, against 2.7 ms along the place index the plan named). Elsewhere, nothing.

`page_first(page, joined, id_column)`: a page of ids joined before the table whose rows it
picks, for PostgreSQL's readers, which join in the order written.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BindParameter,
    Boolean,
    ColumnElement,
    Date,
    Float,
    FromClause,
    Integer,
    Join,
    Numeric,
    Select,
    String,
    Table,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import NullType, TypeDecorator, TypeEngine

_INDEXED_BY = "INDEXED BY %s"


class Unindexed(ColumnElement[Any]):
    inherit_cache = True

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type: TypeEngine[Any] = column.type


def _kind(kind: TypeEngine[Any]) -> TypeEngine[Any]:
    """The type a column's values have in the database (SQLModel's AutoString: a string)."""
    return kind.impl_instance if isinstance(kind, TypeDecorator) else kind


@compiles(Unindexed)
def _unindexed(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    kind = _kind(element.type)
    if isinstance(kind, Boolean):
        return f"coalesce({column}, {column})"
    if isinstance(kind, String):
        return f"({column} || '')"
    if isinstance(kind, Integer | Numeric | Float | Date):
        return f"({column} + 0)"
    return column


@compiles(Unindexed, "sqlite")
def _unindexed_sqlite(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.column, **kw)


def unserved(
    build: Callable[[ColumnElement[Any]], ColumnElement[bool]], column: ColumnElement[Any]
) -> ColumnElement[bool]:
    """The condition `build` makes of `column`, served by no index. A flag keeps the no-op
    form on PostgreSQL: it reads `(flag = true) IS TRUE` as `flag IS TRUE`, which an index
    on the flag serves, and a flag's two values lose little by the default estimate."""
    unindexed = build(Unindexed(column))
    if isinstance(_kind(column.type), Boolean):
        return unindexed
    return Unserved(build(column), unindexed)


class Unserved(ColumnElement[Any]):
    inherit_cache = True
    type: TypeEngine[Any] = NullType()  # as IdSet's

    def __init__(self, condition: ColumnElement[Any], unindexed: ColumnElement[Any]) -> None:
        self.condition = condition
        self.unindexed = unindexed


@compiles(Unserved)
def _unserved(element: Unserved, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.condition, **kw)}) IS TRUE"


@compiles(Unserved, "sqlite")
def _unserved_sqlite(element: Unserved, compiler: SQLCompiler, **kw: Any) -> str:
    # Grouped as a term of the AND it stands in: a cursor's bound is an OR of its keys.
    return compiler.process(element.unindexed.self_group(against=operators.and_), **kw)


class IdSet(ColumnElement[Any]):
    inherit_cache = True
    type: TypeEngine[Any] = NullType()  # Boolean would make SQLite compare the test with 1

    def __init__(self, column: ColumnElement[Any], ids: BindParameter[Any]) -> None:
        self.column = column
        self.ids = ids


@compiles(IdSet)
def _id_set(element: IdSet, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    ids = compiler.process(element.ids, **kw)
    if isinstance(element.column.type, Integer):
        # psycopg sends a list of small ints as smallint[]: `integer = ANY(smallint[])` is
        # tested element by element, `integer = ANY(integer[])` by a hash of the list
        # (a province's 567 places: 5.0 ms against 0.4 ms at 3M rows).
        ids = f"CAST({ids} AS INTEGER[])"
    return f"{column} = ANY({ids})"


@compiles(IdSet, "sqlite")
def _id_set_sqlite(element: IdSet, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} IN (SELECT value FROM json_each({compiler.process(element.ids, **kw)}))"


class Chosen(ColumnElement[Any]):
    """A condition on the access path the planner chose. SQLite is told it is selective
    (`likelihood`), since its sampled statistics can claim a rare value is everywhere and
    pick a full scan; elsewhere the condition is unchanged."""

    inherit_cache = True
    type: TypeEngine[Any] = NullType()

    def __init__(self, condition: ColumnElement[Any]) -> None:
        self.condition = condition


@compiles(Chosen)
def _chosen(element: Chosen, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.condition, **kw)


@compiles(Chosen, "sqlite")
def _chosen_sqlite(element: Chosen, compiler: SQLCompiler, **kw: Any) -> str:
    return f"likelihood({compiler.process(element.condition, **kw)}, 0.0001)"


def page_first(page: FromClause, joined: FromClause, id_column: ColumnElement[Any]) -> FromClause:
    """`joined` (the table, then what it shows, joined left to right) with `page` before
    its table: PostgreSQL's readers join in the order written (app.db), so the page's rows
    are read first and each looks up what it shows, not the whole table first."""
    if not isinstance(joined, Join):
        return page.join(joined, page.c._id == id_column)
    left = page_first(page, joined.left, id_column)
    return left.join(joined.right, joined.onclause, isouter=joined.isouter, full=joined.full)


def on_index(statement: Select[Any], table: Table, index: str) -> Select[Any]:
    """`statement` reading `table` by `index` on SQLite, if it is an index SQLite can be
    held to whatever the conditions: one the schema declares (not the rowid or a unique
    constraint's), of plain columns, over every row (not partial)."""
    declared = next((i for i in table.indexes if i.name == index), None)
    if declared is None or any(
        options.get("where") is not None for options in declared.dialect_options.values()
    ):
        return statement
    return statement.with_hint(table, _INDEXED_BY % index, dialect_name="sqlite")


@compiles(Table, "sqlite")
def _table_sqlite(element: Table, compiler: SQLCompiler, **kw: Any) -> str:
    """A table as SQLite's compiler writes it, then its `on_index` hint (SQLAlchemy passes
    a select's hints to its tables, and its SQLite dialect drops them)."""
    hint = (kw.get("fromhints") or {}).get(element)
    text: str = compiler.visit_table(element, **kw)  # type: ignore[no-untyped-call]
    if kw.get("asfrom") and isinstance(hint, str) and hint.startswith("INDEXED BY "):
        return f"{text} {hint}"
    return text

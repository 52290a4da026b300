"""What a list endpoint declares: its filters, sorts, fields and the indexes that serve them.

One `ListSpec` per list drives the parser, the SQL, the cursors and the OpenAPI parameters,
so the docs, the validation and the queries cannot disagree.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import BindParameter, ColumnElement, Connection, Select

from .operators import LOOKUP_OPERATORS, OPERATORS, SET_OPERATORS, Arity

if TYPE_CHECKING:
    from .facets import Facet
    from .names import Names

Row = Mapping[Any, Any]
Keys = list[BindParameter[Any]]
ValueKind = type[int] | type[float] | type[str] | type[date] | type[bool]


@dataclass(frozen=True)
class Lookup:
    """A filter whose values name rows elsewhere (a slug, a code, a category).

    `ids` selects, for the filter's values bound as `keys`, the ids the filtered column
    holds (labelled `id`). They are resolved by a small statement of their own before the main
    one, so the main statement only compares its own column with plain ids: a plan the
    engine cannot misjudge, whatever the statistics say.
    """

    ids: Callable[[Keys], Select[Any]]
    # What the values name (a place by its slug, say): a value naming no row is refused with
    # the nearest names (app.query.names). None for a lookup of text (`q=`).
    names: "Names | None" = None
    # Every id the column may hold, when that set is small enough to list: `__ne` then
    # becomes membership in the rest, which an index can serve and a probe can count.
    universe: Callable[[], Select[Any]] | None = None
    # A lookup that also reads another filter's values (`via=` reads `covers=`): `paired`
    # selects the ids from both sets of keys, and the filter is refused without `needs`.
    needs: str | None = None
    paired: Callable[[Keys, Keys], Select[Any]] | None = None


# (operator, parsed values) -> the first and last value the other column can take (either
# None for no bound), or None when the filter implies no range of it
Bounds = Callable[[str, list[Any]], "tuple[Any, Any] | None"]


@dataclass(frozen=True)
class Implied:
    """A range of another column that a filter's values imply, stated so the planner can
    use that column's index too: `year=2020` is `period_end` within 2020 (a fact's year is
    the year its period ends), so a page sorted by period end reads only that range of its
    index instead of walking every year's rows in order."""

    column: ColumnElement[Any]
    bounds: Bounds


@dataclass(frozen=True)
class Filter:
    """An allow-listed filter on `column`, directly or through a `lookup`.

    `isnull` is offered exactly when the column can be null.
    """

    name: str
    description: str
    kind: ValueKind = str
    operators: tuple[str, ...] = SET_OPERATORS
    column: ColumnElement[Any] | None = None
    lookup: Lookup | None = None
    example: Any = None
    # A closed vocabulary: the members of one StrEnum, documented as its shared schema.
    choices: tuple[str, ...] | None = None
    # Adds to each item of a page how it matched (`covers=` adds `via`): given the page's
    # connection, its items and the applied filter; it changes the items in place.
    annotate: "Callable[[Connection, list[dict[str, Any]], Condition], None] | None" = None
    implies: Implied | None = None

    def __post_init__(self) -> None:
        assert self.column is not None, f"filter {self.name!r} names no column"
        unknown = [name for name in self.operators if name not in OPERATORS]
        assert not unknown, f"filter {self.name!r}: unknown operators {unknown}"
        if self.lookup is not None:  # lookups resolve to ids: membership only
            assert set(self.operators) <= set(LOOKUP_OPERATORS), self.name
        if self.choices is not None:
            assert self.vocabulary is not None, f"filter {self.name!r}: choices of no StrEnum"
            assert self.choices == tuple(self.vocabulary), f"filter {self.name!r}: a subset"

    @property
    def vocabulary(self) -> type[StrEnum] | None:
        """The StrEnum whose members are the choices (the document's shared schema)."""
        if not self.choices:
            return None
        kind = type(self.choices[0])
        return kind if issubclass(kind, StrEnum) else None

    @property
    def nullable(self) -> bool:
        return bool(getattr(self.column, "nullable", False))

    @property
    def accepted(self) -> tuple[str, ...]:
        """The operators this filter takes: its declared ones, and `isnull` on a nullable
        column."""
        return (*self.operators, "isnull") if self.nullable else self.operators

    @property
    def target(self) -> ColumnElement[Any]:
        assert self.column is not None
        return self.column


def one_of(vocabulary: type[StrEnum]) -> str:
    """The members of a vocabulary as a filter's description lists them: `a, b or c.`"""
    *most, last = [member.value for member in vocabulary]
    return f"{', '.join(most)} or {last}." if most else f"{last}."


def choice_filter(
    name: str, column: ColumnElement[Any], vocabulary: type[StrEnum], example: str
) -> Filter:
    """A filter on a column of a closed vocabulary, its description the vocabulary's members
    (written once, in the StrEnum, so the two cannot drift apart)."""
    return Filter(
        name, one_of(vocabulary), column=column, choices=tuple(vocabulary), example=example
    )


RANKED_TEXT = "ranked_text"  # the bind name of the text a ranked sort scores rows by


@dataclass(frozen=True)
class Sort:
    """A sort field. It is nullable when its column is: nulls sort last, and a cursor on a
    null value continues among the nulls.

    A ranked sort (`relevance`) orders by how well each row matches the value of the
    filter it `ranks` (`q=`): its column reads that value bound as RANKED_TEXT, and it is
    offered only with that filter, which it then orders by when no `sort=` is given."""

    name: str
    column: ColumnElement[Any]
    kind: ValueKind
    nullable: bool = False
    ranks: str | None = None

    def __post_init__(self) -> None:
        if getattr(self.column, "nullable", False):
            object.__setattr__(self, "nullable", True)


@dataclass(frozen=True)
class TableIndex:
    """An index of the list's table, by column names in order (the id last where the
    index carries it), so the planner can tell which filters and sorts it serves."""

    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Augment:
    """A control a list offers beyond the shared ones that adds to each item of a JSON
    page (metrics' `per=`): its OpenAPI parameter, and how it adds. `apply` reads what it
    needs in the page's connection and changes the items in place; it may raise a problem
    naming its parameter."""

    parameter: dict[str, Any]
    apply: Callable[[Connection, list[dict[str, Any]], str], None]

    @property
    def name(self) -> str:
        name: str = self.parameter["name"]
        return name


@dataclass(frozen=True)
class ListSpec:
    """A list endpoint's allow-list and how to read its rows."""

    name: str
    base: Callable[[], Select[Any]]
    id_column: ColumnElement[Any]
    filters: tuple[Filter, ...]
    sorts: tuple[Sort, ...]
    default_sort: tuple[str, ...]
    fields: tuple[str, ...]
    serialize: Callable[[Row], dict[str, Any]]
    # Conditions on the resource's own table that every row of the list meets (a city is a
    # place of a city level): applied to the page, the count and the probes alike.
    scope: tuple[ColumnElement[bool], ...] = ()
    # Indexes of a large table: with them the page's ids are chosen from the table alone on
    # the index that serves the filters and the sort (app.query.plan), and joined after.
    # Small tables leave this empty: any plan reads them in well under a millisecond.
    indexes: tuple[TableIndex, ...] = ()
    # Sort columns with few distinct values (a year): a page sorted by one of them and then
    # by another key is read one run of equal values at a time (app.query.runs).
    few_valued: tuple[str, ...] = ()
    # (a, b): rows with one value of column a share one value of column b (a fact's year is
    # the year its period ends), so within a run of a, b is constant. Relied on to filter,
    # not only to order: a run of a also carries b's equality (app.query.runs._held).
    determines: tuple[tuple[str, str], ...] = ()
    # Fields `facets=` may count by (app.query.facets).
    facets: "tuple[Facet, ...]" = ()
    augment: Augment | None = None

    def __post_init__(self) -> None:
        for sort in self.sorts:
            assert sort.ranks is None or self.filter(sort.ranks), f"{sort.name}: no {sort.ranks}"

    def filter(self, name: str) -> Filter | None:
        return next((f for f in self.filters if f.name == name), None)

    def sort(self, name: str) -> Sort | None:
        return next((s for s in self.sorts if s.name == name), None)


@dataclass(frozen=True)
class Condition:
    """A filter as a request applies it: its operator and values (`year__gte=2020`). The
    page's `meta.filters` describes each (the `AppliedFilter` schema of app.api.shapes)."""

    filter: Filter
    operator: str
    values: list[Any]

    def describe(self) -> dict[str, Any]:
        value: Any = self.values if OPERATORS[self.operator].arity is Arity.MANY else self.values[0]
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, list):
            value = [v.isoformat() if isinstance(v, date) else v for v in value]
        return {"field": self.filter.name, "operator": self.operator, "value": value}

    @property
    def parameter(self) -> str:
        return self.filter.name + OPERATORS[self.operator].suffix


@dataclass(frozen=True)
class ListQuery:
    filters: list[Condition]
    sort: list[tuple[Sort, bool]]  # (field, descending)
    limit: int
    after: list[Any] | None
    fields: tuple[str, ...] | None
    count: bool
    scope: bytes = b""  # what a cursor is bound to besides the sort: path and filters
    version: str | None = None  # the dataset version the cursor's walk began on

    @property
    def sort_signature(self) -> str:
        return ",".join(("-" if desc else "") + s.name for s, desc in self.sort)

    @property
    def sort_values(self) -> dict[str, Any]:
        """What the sort's own expressions bind: the text a ranked sort scores rows by."""
        ranked = {s.ranks for s, _ in self.sort if s.ranks is not None}
        text = next((f.values[0] for f in self.filters if f.filter.name in ranked), None)
        return {} if text is None else {RANKED_TEXT: text}


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None = None
    total_exact: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def field_heads(fields: Sequence[str]) -> list[str]:
    """The item's own fields that `fields=` names, a dotted name by the object holding it."""
    return [name.split(".", 1)[0] for name in fields]

"""Choosing how a page of a large table is read, before it is read.

A page is chosen from the list's own table alone (relation filters already resolved to
ids) on one access path, picked by rules rather than left to the engine's statistics,
which at scale picked a full sort of millions of rows for ordinary URLs:

1. ordered: an index whose leading columns are all fixed by equality filters and whose next
   column is the sort key: the page is the first rows of one index range, read in order.
2. driven: otherwise, the index that a capped count ("probe") shows matches fewest rows, if
   fewer than PROBE_CAP: those rows are read and sorted, a bounded amount of work.
3. walk: otherwise every filter matches many rows, so the sort key's index is read in
   order (after the equalities it leads with, if any) and the other filters tested row by
   row: a page is found after about limit / selectivity rows. With a second sort key no
   index serves, each run of equal first keys is sorted; where the first key has few values
   (a year), app.query.runs reads such a page one run at a time instead.

Terms the chosen path does not use are served by no index (`unserved`), so the engine follows
the plan.
"""

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select

from .expressions import Chosen, on_index, unserved
from .operators import Use
from .spec import ListSpec, TableIndex

PROBE_CAP = 10_000
# The shape of an equality a run implies rather than states (app.query.runs: a period end's
# run holds one year): it may narrow a probe, but an index the run itself leads is preferred.
HELD = "held"
# What reading one driven row costs in walked index entries, weighing a drive a HELD
# equality allows against the run's own walk: a province's 3,240 rows of a 120,000-row run
# took 52-80 ms driven on PostgreSQL against 29-41 ms walked (SQLite: 25-48 against 38-61).
DRIVEN_ROW = 3
# The longest range counted to weigh such a drive (a period end's run at 3M rows: 120,000).
RANGE_COUNTED = 1 << 17


@dataclass(frozen=True)
class Term:
    """One condition of a page's statement, on a column of the list's own table."""

    column: str
    use: Use
    build: Callable[[ColumnElement[Any]], ColumnElement[bool]]
    element: ColumnElement[Any]
    shape: Hashable
    values: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> Hashable:
        """What decides this term's SQL text: its shape and the names its values bind to."""
        return (self.column, self.shape, tuple(self.values))

    def condition(self, indexable: bool) -> ColumnElement[bool]:
        return self.build(self.element) if indexable else unserved(self.build, self.element)


class PlanKind(Enum):
    ORDERED = "ordered"
    DRIVEN = "driven"
    WALK = "walk"
    FREE = "free"  # a small table: the engine plans for itself


@dataclass(frozen=True)
class Plan:
    kind: PlanKind
    index: TableIndex | None = None
    indexable: frozenset[str] = frozenset()
    order_indexable: bool = True
    matches: int | None = None  # the driving probe's count, when one ran

    def allows(self, column: str) -> bool:
        return self.kind is PlanKind.FREE or column in self.indexable

    @property
    def signature(self) -> Hashable:
        return (self.kind, None if self.index is None else self.index.name,
                tuple(sorted(self.indexable)), self.order_indexable)  # fmt: skip


class Probe(Protocol):
    """Counts the rows of an index range the terms keep, up to a cap (app.query.counts)."""

    def __call__(self, index: TableIndex, terms: Sequence[Term], cap: int = PROBE_CAP) -> int: ...


def where_of(spec: ListSpec, terms: Sequence[Term], plan: Plan) -> list[ColumnElement[Any]]:
    """The conditions of a statement on the plan's path: the terms its index serves marked
    chosen, the others unindexed, so the engine takes the path the plan names."""
    conditions: list[ColumnElement[Any]] = list(spec.scope)
    # An equality and a range on one column (a run's period end, and the range a year
    # filter implies): the equality is the index's, or SQLite may take the range instead
    # and sort all of it (`year__lte=2014&sort=-period_end,-value`: 0.85 s against 10 ms).
    fixed = {t.column for t in terms if t.use is Use.EQ and plan.allows(t.column)}
    for term in terms:
        indexable = plan.allows(term.column) and (term.use is Use.EQ or term.column not in fixed)
        condition = term.condition(indexable)
        # Only a term that narrows the index's range is selective: `value != ?` on a walk
        # of the value index keeps nearly every row, and told otherwise, SQLite scanned
        # another index and sorted the table (refused at the 1 s budget).
        chosen = indexable and plan.kind is not PlanKind.FREE and term.use is not Use.OTHER
        conditions.append(Chosen(condition) if chosen else condition)
    return conditions


def usable_prefix(index: TableIndex, terms: Sequence[Term]) -> list[str]:
    """The leading columns of `index` the terms can narrow: equalities and sets (both
    engines look each combination up), then at most one column with a range."""
    columns: list[str] = []
    for name in index.columns:
        uses = {term.use for term in terms if term.column == name}
        if uses & {Use.EQ, Use.SET}:
            columns.append(name)
            continue
        if Use.RANGE in uses:
            columns.append(name)
        break
    return columns


def _ordered(index: TableIndex, terms: Sequence[Term], sort_column: str) -> int | None:
    """How many leading equality columns precede the sort key in `index`, if the index
    serves the order (nothing but the id may follow the sort key), else None."""
    for equal, name in enumerate(index.columns):
        if name == sort_column:
            rest = index.columns[equal + 1 :]
            return equal if rest in ((), ("id",)) or sort_column == "id" else None
        if not any(term.column == name and term.use is Use.EQ for term in terms):
            return None
    return None


def _only_held(terms: Sequence[Term]) -> set[str]:
    """The columns only a HELD equality fixes."""
    fixed = {t.column for t in terms if t.use is Use.EQ and t.shape != HELD}
    return {t.column for t in terms if t.shape == HELD} - fixed


def _held_columns(index: TableIndex, terms: Sequence[Term]) -> int:
    """How many of the index's columns only a HELD equality fixes: a run's own index is
    no wider than one led by a column the run holds constant (a period end's, not its
    year's: a year may hold several period ends)."""
    held = _only_held(terms)
    return sum(1 for name in index.columns if name in held)


def choose(
    spec: ListSpec,
    terms: Sequence[Term],
    sort_columns: Sequence[str],
    probe: Probe,
    wanted: int = 0,
) -> Plan:
    """The access path for a page of `wanted` rows: see the module's docstring.

    An ordered path is taken at once when its own range is small; when it is large (an
    equality on a column most rows share), a driven path with a small probe is safer: the
    ordered walk would test most of the table against the other filters. A drive that only
    a HELD equality makes possible is weighed against the ordered path instead, where there
    is one (`_walk_is_shorter`); bounded by PROBE_CAP, it is taken where there is none.
    """
    if not spec.indexes:
        return Plan(PlanKind.FREE)
    first = sort_columns[0]
    single = len(sort_columns) == 1 or tuple(sort_columns[1:]) == ("id",)
    candidates = [(k, i) for i in spec.indexes if (k := _ordered(i, terms, first)) is not None]
    best = max(candidates, key=lambda pair: (pair[0], -_held_columns(pair[1], terms)), default=None)
    ordered = None
    if best is not None and best[0] > 0 and single:
        equal, index = best
        matches = probe(index, [t for t in terms if t.column in index.columns[:equal]])
        ordered = Plan(
            PlanKind.ORDERED, index, frozenset(index.columns[: equal + 1]), True, matches
        )
        if matches < PROBE_CAP:
            return ordered
    driven = drive(spec, terms, probe, first)
    if driven is not None and ordered is not None and driven.indexable & _only_held(terms):
        return ordered if _walk_is_shorter(ordered, driven, terms, probe, wanted) else driven
    if driven is not None:
        return driven
    if ordered is not None:
        return ordered
    if best is None:
        return Plan(PlanKind.WALK, None, frozenset(), order_indexable=True)
    # The first sort key's index after the most equalities: with a second sort key (which
    # no index serves too) each run of equal first keys is sorted (or read run by run,
    # app.query.runs), so the walk should hold only rows the equalities keep (`latest=true`:
    # the latest rows' period_end index, not every row's, tested one by one for `latest`).
    equal, walk = best
    return Plan(PlanKind.WALK, walk, frozenset(walk.columns[: equal + 1]))


def _walk_is_shorter(
    ordered: Plan, driven: Plan, terms: Sequence[Term], probe: Probe, wanted: int
) -> bool:
    """Whether walking the ordered range for `wanted` rows costs less than the drive. The
    walk passes about wanted x range / matches entries; the drive reads its matches, each
    costing about DRIVEN_ROW entries (a seek per combination of set values, and the sort),
    so the walk is shorter when the range holds fewer than DRIVEN_ROW x matches^2 / wanted
    rows. At 3M rows, a page of 200 in a 120,000-row run: a province of 1,720 rows of the
    run is driven (SQLite 64-87 -> 18-31 ms), ones of 3,240 and 7,080 rows walked. The
    range is counted up to the next power of two (so the count is remembered for
    pages of nearby sizes), and not at all past RANGE_COUNTED: the walk is taken then, as
    it was before held equalities."""
    if not wanted or ordered.index is None or driven.matches is None:
        return False
    needed = DRIVEN_ROW * driven.matches**2 // wanted + 1
    if needed <= PROBE_CAP:  # the ordered path's own probe found that many
        return False
    cap = 1 << (needed - 1).bit_length()
    if cap > RANGE_COUNTED:
        return True
    leading = [t for t in terms if t.column in ordered.index.columns[: len(ordered.indexable) - 1]]
    return probe(ordered.index, leading, cap) < needed


def drive(spec: ListSpec, terms: Sequence[Term], probe: Probe, sort_column: str) -> Plan | None:
    """The index whose probe matches fewest rows, if fewer than PROBE_CAP. A range on the
    sort key alone is not probed: reading that range in order is the walk itself; nor is
    an index a HELD equality leads, whose range holds the run's and more."""
    best: Plan | None = None
    seen: set[tuple[str, ...]] = {(sort_column,)}
    held = _only_held(terms)
    for index in spec.indexes:
        columns = tuple(usable_prefix(index, terms))
        if not columns or columns in seen or columns[0] in held:
            continue  # nothing to narrow; seen; or led by a HELD column (no narrower)
        seen.add(columns)
        used = [term for term in terms if term.column in columns]
        matches = probe(index, used)
        if matches < PROBE_CAP and (best is None or matches < (best.matches or 0)):
            best = Plan(PlanKind.DRIVEN, index, frozenset(columns), False, matches)
    return best


def on_path(statement: Select[Any], spec: ListSpec, plan: Plan) -> Select[Any]:
    """`statement` on the plan's index alone, where the plan drives or walks one. Unindexed
    terms were not enough for a walk: with `period_end >= ?` on it, SQLite read the
    (period_end, value, id) index and sorted each period end's rows by id instead of
    walking (period_end, id) (`within__in=…&year__gte=2016&sort=period_end`: 303 ms
    against 2.6 ms at 3M rows)."""
    if plan.kind in (PlanKind.DRIVEN, PlanKind.WALK) and plan.index is not None:
        return on_index(statement, spec.id_column.table, plan.index.name)
    return statement

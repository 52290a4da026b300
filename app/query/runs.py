"""Reading a page sorted by a few-valued key and then another, one run of equal values at a
time.

`sort=year,key` over unselective filters has no index that serves both keys, so both
engines walk the year index and sort each year's rows by key before the first row of the
page: a run of 120,000 rows at 3M, 0.25-0.8 s a page. Read instead one run at a time, the
run's value fixed by an equality, each run is planned like a page of its own: `key`'s
index walked for rows of that year, or `(year, id)` read in order for `sort=-year,id`,
whose mixed directions no single index walk gives. The next run's value is one index seek.

A page that visits more than MAX_RUNS runs (filters that keep few rows of each) reads the
rest in one statement over the runs beyond the last one visited, sorting them as before.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import isqrt
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, func, select, true

from .memo import ANSWERS, frozen
from .operators import Use
from .order import Key, Phase, order_by
from .plan import HELD, Plan, PlanKind, Term, where_of
from .spec import ListSpec
from .statements import STATEMENTS, fetch, slot
from .terms import column_name, equal_terms, implied_by

MAX_RUNS = 8
RUN_SCAN = 4  # a walked run examines at most this many of its rows per row the page wants
SCAN_AT_LEAST = 64  # rows wanted, for the scan: a page's last row or two from the next run

Found = list[dict[str, Any]]
# Reads one run (its equality terms given apart from the request's) on its own, if an index
# serves it or a bounded walk finds its rows: (keys, after, request terms, run terms,
# wanted, sorts) to rows as [sort values..., id], or None.
ReadRun = Callable[[list[Key], list[Any] | None, list[Term], list[Term], int, int], Found | None]
# The phase read as one statement: whole (None: from the cursor), or from a term on.
ReadRest = Callable[[Term | None, int], Found]
Count = Callable[[int], int]


@dataclass(frozen=True)
class Readers:
    run: ReadRun
    rest: ReadRest


def by_runs(spec: ListSpec, phase: Phase, plan: Plan) -> bool:
    """Whether the phase may read better run by run: a walk (no probe found few rows), or
    an index range read in order (`latest=true&sort=-year,id`), whose first key has few
    values and whose later keys the index does not serve: each run would be sorted."""
    keys = phase.keys
    walked = plan.kind in (PlanKind.WALK, PlanKind.ORDERED)
    if not walked or len(keys) < 2 or phase.name == "nulls":
        return False
    if column_name(keys[0].element) not in spec.few_valued:
        return False
    second = column_name(keys[1].element)
    if second in spec.few_valued and not _within(spec, keys[0], keys[1]):
        return False
    served = len(keys) == 2 and keys[1].element is spec.id_column
    return not (served and keys[1].descending == keys[0].descending)


def _determined(spec: ListSpec, lead: Key, other: Key) -> bool:
    """Whether a run of `lead` holds one value of `other` (`period_end` then `year`)."""
    return (column_name(lead.element), column_name(other.element)) in spec.determines


def _within(spec: ListSpec, lead: Key, other: Key) -> bool:
    """Whether a run of `lead` has `other` constant, or within a range its filter implies
    (`year`, then `period_end` within that year), so runs of `other` nest inside."""
    if _determined(spec, lead, other):
        return True
    return any(
        f.target is lead.element and f.implies is not None and f.implies.column is other.element
        for f in spec.filters
    )


def read_runs(
    connection: Connection,
    spec: ListSpec,
    phase: Phase,
    terms: Sequence[Term],
    wanted: int,
    sorts: int,
    read: Readers,
) -> Found:
    """Up to `wanted` rows of the phase (its first key never null), run by run; `terms`
    are the request's (with an outer run's equality, when runs nest), not the phase's own.
    A run that neither an index nor a bounded walk reads (filters that keep few of its rows,
    or a run too small to walk) and every run after it are read in one statement, sorted
    as before."""
    lead = phase.keys[0]
    skip = 2 if _determined(spec, lead, phase.keys[1]) else 1  # a constant key is no order
    rest = phase.keys[skip:]
    after = phase.after
    found: Found = []
    bound: Any = None if after is None else after[0]
    inclusive = after is not None
    for visited in range(MAX_RUNS):
        value = _next_value(connection, spec, lead, terms, bound, inclusive)
        if value is None:
            return found
        # The cursor's value is typed (a date) and SQLite gives text: compared as ISO text.
        within = after[skip:] if after is not None and str(value) == str(after[0]) else None
        equal = [
            *equal_terms(spec, lead.element, value),
            *_held(connection, spec, lead.element, value, terms),
        ]
        tested = _within_run(terms, lead)
        rows = read.run(rest, within, tested, equal, wanted - len(found), sorts - skip)
        if rows is None:
            start = None if visited == 0 else _beyond(lead, value, inclusive=True)
            return found + read.rest(start, wanted - len(found))
        second = phase.keys[1].element
        constant = [] if skip == 1 else [_constant(connection, spec, lead.element, second, value)]
        found.extend({**row, "keys": [value, *constant, *row["keys"]]} for row in rows)
        if len(found) >= wanted:
            return found
        bound, inclusive = value, False
    return found + read.rest(_beyond(lead, bound, inclusive=False), wanted - len(found))


def _within_run(terms: Sequence[Term], lead: Key) -> list[Term]:
    """The request's terms a run of `lead` still tests. Those on the lead itself hold for
    the whole run (the seek found its value with them), and so does the range of period
    ends a year filter implies, in a run of one year (a fact's year is the year its period
    ends: ck_observation_period_year). Left in, PostgreSQL multiplied their selectivities
    with the run's equality as if they were independent, and read a run of 120,000 rows
    by a bitmap and a sort for 200 of them (`source=…&year__in=(3)&sort=-year,id`)."""
    name = column_name(lead.element)

    def held(term: Term) -> bool:
        return term.use is not Use.EQ and (term.column == name or implied_by(term, name))

    return [term for term in terms if not held(term)]


def walk_run(
    connection: Connection,
    spec: ListSpec,
    keys: list[Key],
    plan: Plan,
    filters: Sequence[Term],
    fixed: Sequence[Term],
    wanted: int,
    sorts: int,
    sort_values: dict[str, Any],
) -> Found | None:
    """A run's first `wanted` rows in the order of `keys`, read by walking the plan's index
    (the next key's) over at most RUN_SCAN times as many rows of the run (`fixed`: its
    equality and the cursor's bounds), each marked whether the request's other `filters`
    keep it; None when that many rows are not enough. The walk is in order, so the first
    rows kept are the page's."""
    served = [t for t in filters if plan.allows(t.column)]
    tested = [t for t in filters if not plan.allows(t.column)]
    scan = scan_for(wanted)
    shape = (spec.name, "run-walk", plan.signature, tuple(t.key for t in served),
             tuple(t.key for t in tested), tuple(t.key for t in fixed),
             tuple((column_name(k.element), k.descending) for k in keys))  # fmt: skip

    def build() -> Select[Any]:
        kept = and_(true(), *(t.condition(False) for t in tested))
        columns = [key.element.label(f"_k{i}") for i, key in enumerate(keys)]
        return (
            select(spec.id_column.label("_id"), *columns, kept.label("_kept"))
            .where(*where_of(spec, [*served, *fixed], plan))
            .order_by(*order_by(keys, plan, "all"))
            .limit(slot("run_scan"))
        )

    values = {name: value for term in [*filters, *fixed] for name, value in term.values.items()}
    rows = fetch(connection, STATEMENTS.get(connection, shape, build),
                 {**values, **sort_values, "run_scan": scan})  # fmt: skip
    kept = [row for row in rows if row["_kept"]]
    if len(kept) < wanted and len(rows) == scan:
        return None
    return [
        {"_id": row["_id"], "keys": [*(row[f"_k{i}"] for i in range(sorts)), row["_id"]]}
        for row in kept[:wanted]
    ]


def scan_for(wanted: int) -> int:
    """How many of a run's rows a walk for `wanted` of them examines."""
    return RUN_SCAN * max(wanted, SCAN_AT_LEAST)


def worth_walking(connection: Connection, spec: ListSpec, scan: int, count: Count) -> bool:
    """Whether walking the next key's index for `scan` rows of a run costs less than
    sorting the run: the walk passes about scan x (table / run) index entries, the sort reads
    the run's rows, so the run must hold at least sqrt(scan x table) of them (49,000 for a
    page of 200 at 3M rows: a year, not a day). `count(cap)` counts the run's rows up to cap;
    the table's size is its largest id, remembered per dataset version."""

    def build() -> Select[Any]:
        return select(func.max(spec.id_column).label("value")).where(*spec.scope)

    table = int(_remembered(connection, (spec.name, "largest-id"), build, {}) or 0)
    needed = isqrt(scan * table) + 1
    return count(needed) >= needed


def _beyond(lead: Key, bound: Any, *, inclusive: bool) -> Term:
    """The runs from `bound` on (or after it), as a range term an index can use."""
    limit = slot("run_beyond")

    def build(column: ColumnElement[Any]) -> ColumnElement[bool]:
        return _past(column, limit, lead.descending, inclusive)

    name = column_name(lead.element)
    shape = ("beyond", lead.descending, inclusive)  # both decide the SQL
    return Term(name, Use.RANGE, build, lead.element, shape, {"run_beyond": bound})


def _seekable(spec: ListSpec, name: str, terms: Sequence[Term]) -> set[str]:
    """The columns a seek for the next run may test on an index: the lead's own, and the
    equalities that lead an index before it (`latest=true`: runs of years with latest rows,
    on `(latest, year, id)`), so runs with no row they keep are skipped, not read."""
    equal = {term.column for term in terms if term.use is Use.EQ}
    best: set[str] = set()
    for index in spec.indexes:
        if name in index.columns:
            leading = set(index.columns[: index.columns.index(name)])
            if leading <= equal and len(leading) > len(best):
                best = leading
    return {name, *best}


def _held(
    connection: Connection,
    spec: ListSpec,
    lead: ColumnElement[Any],
    value: Any,
    terms: Sequence[Term],
) -> list[Term]:
    """Equalities on the columns a run of `lead` holds constant (`determines`: a period
    end's year), where no term fixes them already. An index they lead can then drive the
    run: a province's rows of one period end are its places' rows of that year, read from
    `(place_id, indicator_id, year)`, where the run's own `(period_end, value)` index was
    walked past every other province's rows first (75 ms for a small province at 3M)."""
    held: list[Term] = []
    name = column_name(lead)
    for other in (b for a, b in spec.determines if a == name):
        if any(t.column == other and t.use is Use.EQ for t in terms):
            continue
        element = spec.id_column.table.c[other]
        constant = _constant(connection, spec, lead, element, value)
        if constant is None:
            continue
        held.append(_equality(f"run_{name}_{other}", element, constant))
    return held


def _equality(slot_name: str, element: ColumnElement[Any], value: Any) -> Term:
    bound = slot(slot_name)

    def build(column: ColumnElement[Any]) -> ColumnElement[bool]:
        return column == bound

    return Term(column_name(element), Use.EQ, build, element, HELD, {slot_name: value})


def _constant(
    connection: Connection,
    spec: ListSpec,
    lead: ColumnElement[Any],
    other: ColumnElement[Any],
    value: Any,
) -> Any:
    """The one value of `other` in the run of `lead` at `value` (see `determines`)."""
    shape = (spec.name, "run-constant", column_name(lead), column_name(other))

    def build() -> Select[Any]:
        match = lead == slot("run_value")
        return select(other.label("value")).where(*spec.scope, match).limit(1)

    return _remembered(connection, shape, build, {"run_value": value})


def _next_value(
    connection: Connection,
    spec: ListSpec,
    lead: Key,
    terms: Sequence[Term],
    bound: Any,
    inclusive: bool,
) -> Any:
    """The first value of the lead key at or past `bound` that its own filters allow (a
    seek of its index), once per dataset version: None when there is none."""
    name = column_name(lead.element)
    own = [term for term in terms if term.column in _seekable(spec, name, terms)]
    mode = None if bound is None else inclusive
    shape = (spec.name, "next-run", name, lead.descending, mode, tuple(t.key for t in own))
    values = {key: value for term in own for key, value in term.values.items()}
    if bound is not None:
        values["run_bound"] = bound

    def build() -> Select[Any]:
        column = lead.element
        conditions = [*spec.scope, column.is_not(None), *(t.condition(True) for t in own)]
        if bound is not None:
            conditions.append(_past(column, slot("run_bound"), lead.descending, inclusive))
        order = column.desc() if lead.descending else column.asc()
        return select(column.label("value")).where(*conditions).order_by(order).limit(1)

    return _remembered(connection, shape, build, values)


def _past(
    column: ColumnElement[Any], edge: ColumnElement[Any], descending: bool, inclusive: bool
) -> ColumnElement[bool]:
    """`column` at or past `edge` in the order's direction (`<=` descending, `>=` not)."""
    if descending:
        return column <= edge if inclusive else column < edge
    return column >= edge if inclusive else column > edge


def _remembered(
    connection: Connection, shape: Any, build: Callable[[], Select[Any]], values: dict[str, Any]
) -> Any:
    """The one value a statement reads (None without a row), once per dataset version."""

    def read() -> Any:
        rows = fetch(connection, STATEMENTS.get(connection, shape, build), values)
        return rows[0]["value"] if rows else None

    return ANSWERS.get(connection, (shape, frozen(values)), read)

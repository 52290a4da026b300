"""Running a parsed list query: resolve, plan, read the page's ids, then its rows.

1. Lookup filters are resolved to ids by small statements of their own (app.query.lookups).
2. The access path is chosen by rules (app.query.plan), probing index ranges when needed.
3. The page's ids and sort values are read from the list's own table alone, in two phases
   when the first sort key can be null (rows with a value in index order, then the rest):
   a single `NULLS LAST` order is one no index serves on both engines. A first key with few
   values (a year) followed by one its index does not serve is read one run of equal
   values at a time (app.query.runs).
4. Only the page's rows are joined to everything they show (late materialisation).
5. `count=true` reads a bounded part of one index range (app.query.counts).

Every statement is compiled once per shape (app.query.statements); values are always bound.
"""

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Select, select

from .counts import bounded_count, capped_count, prober
from .cursors import encode_cursor
from .expressions import IdSet, page_first
from .order import Key, Phase, keys_of, order_by, phases
from .plan import HELD, Plan, PlanKind, Term, choose, on_path, where_of
from .runs import Readers, by_runs, read_runs, scan_for, walk_run, worth_walking
from .snapshot import snapshot_version
from .spec import Condition, ListQuery, ListSpec, Page, field_heads
from .statements import STATEMENTS, Prepared, fetch, slot
from .terms import NothingMatches, column_name, id_set_value, terms_for

# Statements ----------------------------------------------------------------------------


def _table(spec: ListSpec) -> Any:
    return spec.id_column.table


def _ids_statement(
    spec: ListSpec, keys: Sequence[Key], terms: Sequence[Term], plan: Plan, phase: str
) -> Select[Any]:
    columns = [key.element.label(f"_k{i}") for i, key in enumerate(keys)]
    statement = (
        select(spec.id_column.label("_id"), *columns)
        .select_from(_table(spec))
        .where(*where_of(spec, terms, plan))
        .order_by(*order_by(keys, plan, phase))
        .limit(slot("page_limit"))
    )
    return on_path(statement, spec, plan)


def _page_statement(
    spec: ListSpec, keys: Sequence[Key], terms: Sequence[Term], plan: Plan
) -> Select[Any]:
    """The page's ids as `_ids_statement` reads them, a LIMITed subquery (neither engine
    flattens one into a join), joined to what the page shows, in the same order."""
    page = _ids_statement(spec, keys, terms, plan, "all").subquery("page")
    order = []
    for i, key in enumerate(keys):
        column = page.c[f"_k{i}"]
        clause = column.desc() if key.descending else column.asc()
        order.append(clause.nulls_last() if key.nullable else clause)
    columns = [page.c[f"_k{i}"] for i in range(len(keys))]
    base = spec.base()
    (joined,) = base.get_final_froms()
    statement = select(*base.selected_columns, page.c._id, *columns).select_from(
        page_first(page, joined, spec.id_column)
    )
    if base.whereclause is not None:
        statement = statement.where(base.whereclause)
    return statement.order_by(*order)


def _rows_base(spec: ListSpec) -> Select[Any]:
    return spec.base().add_columns(spec.id_column.label("_id"))


def _rows_statement(spec: ListSpec) -> Select[Any]:
    return _rows_base(spec).where(IdSet(spec.id_column, slot("page_ids")))


# Running -------------------------------------------------------------------------------


def _read_ids(
    connection: Connection, spec: ListSpec, query: ListQuery, terms: Sequence[Term]
) -> list[dict[str, Any]]:
    """The page's ids and sort values (one row more than the limit, if there is one)."""
    keys = keys_of(spec, query)
    after = None if query.after is None else query.after[: len(keys)]

    def read_keys(
        keys: list[Key], after: list[Any] | None, terms: list[Term], wanted: int, sorts: int
    ) -> list[dict[str, Any]]:
        """Rows in the order of `keys`, each phase planned for its own conditions."""
        found: list[dict[str, Any]] = []
        for phase in phases(keys, after):
            found.extend(read_phase(phase, terms, wanted - len(found), sorts))
            if len(found) >= wanted:
                break
        return found

    def plan_of(phase: Phase, terms: list[Term], wanted: int) -> Plan:
        columns = [column_name(key.element) for key in phase.keys]
        return choose(spec, terms, columns, prober(connection, spec), wanted)

    def read_run(
        keys: list[Key],
        after: list[Any] | None,
        terms: list[Term],
        equal: list[Term],
        wanted: int,
        sorts: int,
    ) -> list[dict[str, Any]] | None:
        """One run, `equal` fixing it: on the path an index gives, else by a bounded walk;
        runs of a second few-valued key nest inside (`year`, then `period_end`)."""
        if keys[0].nullable or column_name(keys[0].element) in spec.few_valued:
            return read_keys(keys, after, [*terms, *equal], wanted, sorts)
        (phase,) = phases(keys, after)
        fixed = [*equal, *phase.terms()]
        plan = plan_of(phase, [*terms, *fixed], wanted)
        # An equality the run holds (its year) stays where the plan reads by it; elsewhere
        # it adds nothing, and PostgreSQL walked the run's own range slower with it.
        equal = [t for t in equal if t.shape != HELD or plan.allows(t.column)]
        fixed = [*equal, *phase.terms()]
        if plan.kind is not PlanKind.WALK or plan.index is None:
            return read_phase(phase, [*terms, *equal], wanted, sorts, runs=False)

        def count(cap: int) -> int:
            # The run's equality alone (equal_terms gives it first): the range it implies
            # (a year's period ends) keeps no fewer rows, and testing it read each of up to
            # 49,000 rows from the table, not the index (70-270 ms a run at 3M rows).
            return capped_count(connection, spec, equal[:1], cap)

        if not worth_walking(connection, spec, scan_for(wanted), count):
            return None  # a small run: sorted, with the runs after it
        return walk_run(
            connection, spec, keys, plan, terms, fixed, wanted, sorts, query.sort_values
        )

    def read_phase(
        phase: Phase, terms: list[Term], wanted: int, sorts: int, runs: bool = True
    ) -> list[dict[str, Any]]:
        phase_terms = [*terms, *phase.terms()]
        plan = plan_of(phase, phase_terms, wanted)
        if runs and by_runs(spec, phase, plan):

            def read_rest(start: Term | None, left: int) -> list[dict[str, Any]]:
                if start is None:  # the whole phase, from the cursor
                    return read_phase(phase, terms, left, sorts, runs=False)
                whole = replace(phase, after=None)
                return read_phase(whole, [*terms, start], left, sorts, runs=False)

            readers = Readers(read_run, read_rest)
            return read_runs(connection, spec, phase, terms, wanted, sorts, readers)
        rows, whole_rows = _read_phase(
            connection, spec, phase, phase_terms, plan, wanted, query.sort_values
        )
        return _normalise(rows, phase, sorts, whole_rows)

    return read_keys(keys, after, list(terms), query.limit + 1, len(query.sort))


def _read_phase(
    connection: Connection,
    spec: ListSpec,
    phase: Phase,
    terms: list[Term],
    plan: Plan,
    limit: int,
    sort_values: dict[str, Any],
) -> tuple[list[dict[str, Any]], bool]:
    """The phase's ids and sort values, and whether its rows were read whole with them;
    `sort_values` are what the sort's own expressions bind (a ranked sort's text)."""
    columns = [column_name(key.element) for key in phase.keys]
    order = tuple((column, key.descending) for column, key in zip(columns, phase.keys, strict=True))
    shape = (spec.name, "ids", phase.name, plan.signature, tuple(t.key for t in terms), order)
    # One phase: ids and rows in one statement once the shape recurs (compiling the page's
    # whole select cost a new shape more than it saved: sweep p50 5.1 -> 6.2 ms). On
    # PostgreSQL a round trip less; it planned the joined form of some lists far worse
    # (organizations?limit=3: 27 -> 162 ms) until the page came first in the join order
    # its readers keep (app.query.expressions.page_first).
    whole = phase.name == "all" and STATEMENTS.repeated(connection, (*shape, "rows"))
    if whole:
        prepared = STATEMENTS.get(
            connection, (*shape, "rows"), lambda: _page_statement(spec, phase.keys, terms, plan)
        )
    else:
        prepared = STATEMENTS.get(
            connection, shape, lambda: _ids_statement(spec, phase.keys, terms, plan, phase.name)
        )
    values = {name: value for term in terms for name, value in term.values.items()}
    return fetch(connection, prepared, {**values, **sort_values, "page_limit": limit}), whole


def _normalise(
    rows: list[dict[str, Any]], phase: Phase, sorts: int, whole: bool
) -> list[dict[str, Any]]:
    """Rows as [sort values..., id] whatever the phase (a nulls phase has no first key)."""
    offset = 1 if phase.name == "nulls" else 0
    names = [f"_k{i}" for i in range(sorts - offset)]  # named once, not once per row
    pad = [None] * offset
    result = []
    for row in rows:
        found = {"_id": row["_id"], "keys": [*pad, *map(row.__getitem__, names), row["_id"]]}
        if whole:  # read by _page_statement
            found["row"] = row
        result.append(found)
    return result


def materialise(connection: Connection, spec: ListSpec, ids: list[Any]) -> list[dict[str, Any]]:
    """The rows of these ids, in this order, read by the one prepared statement of the
    list (so a detail's row has the same types as a list's)."""
    if not ids:
        return []
    prepared: Prepared = STATEMENTS.get(
        connection, (spec.name, "rows"), lambda: _rows_statement(spec)
    )
    rows = fetch(connection, prepared, {"page_ids": id_set_value(connection, ids)})
    by_id = {row["_id"]: row for row in rows}
    return [by_id[i] for i in ids if i in by_id]


def row_by_key(
    connection: Connection, spec: ListSpec, column: str, key: Any
) -> dict[str, Any] | None:
    """The row whose `column` (a unique key) is `key`, with its `_id`, in one statement: a
    detail's key lookup and its row, read together (the same columns as `materialise`)."""

    def build() -> Select[Any]:
        table = _table(spec)
        return _rows_base(spec).where(table.c[column] == slot("key"), *spec.scope).limit(1)

    prepared = STATEMENTS.get(connection, (spec.name, "row-by", column), build)
    rows = fetch(connection, prepared, {"key": key})
    return rows[0] if rows else None


def run_query(
    connection: Connection,
    spec: ListSpec,
    query: ListQuery,
    *,
    secret: str,
    fixed: Sequence[Condition] = (),
    augment: str | None = None,
) -> Page:
    """One page of the list; with `augment`, the value of the spec's augmenting control,
    which adds to the items before `fields=` picks from them (its key is kept)."""
    try:
        terms = terms_for(connection, spec, [*fixed, *query.filters])
    except NothingMatches:
        return Page([], None, 0 if query.count else None)
    rows = _read_ids(connection, spec, query, terms)
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        version = snapshot_version(connection)
        next_cursor = encode_cursor(spec, query, rows[-1]["keys"], secret, version)
    if all("row" in r for r in rows):  # read with their ids
        whole = [r["row"] for r in rows]
    else:
        whole = materialise(connection, spec, [r["_id"] for r in rows])
    items = [spec.serialize(row) for row in whole]
    for applied in query.filters:
        if applied.filter.annotate is not None:
            applied.filter.annotate(connection, items, applied)
    # A dotted name (`place.slug`, an export's column) keeps the object that holds it, whole:
    # a page's items keep the shape of the item's schema.
    kept = None if query.fields is None else tuple(dict.fromkeys(field_heads(query.fields)))
    if augment is not None and spec.augment is not None:
        spec.augment.apply(connection, items, augment)
        kept = None if kept is None else (*kept, spec.augment.name)
    if kept is not None:
        items = [{name: item[name] for name in kept} for item in items]
    page = Page(items, next_cursor)
    if query.count:
        page.total, page.total_exact = _first_page_bound(
            query, len(items), next_cursor, bounded_count(connection, spec, terms)
        )
    return page


def _first_page_bound(
    query: ListQuery, shown: int, next_cursor: str | None, counted: tuple[int, bool]
) -> tuple[int, bool]:
    """A first page's rows all match: a bounded count that found fewer is raised to them
    (and one more when a next page exists), and with no next page they are the total."""
    total, exact = counted
    if query.after is not None or exact:
        return total, exact
    if next_cursor is None:
        return shown, True
    return max(total, shown + 1), False

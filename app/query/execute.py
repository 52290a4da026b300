"""Running a parsed list query: resolve, plan, read the page's ids, then its rows.

1. Lookup filters are resolved to ids by small statements of their own (app.query.lookups).
2. The access path is chosen by rules (app.query.plan), probing index ranges when needed.
3. The page's ids and sort values are read from the list's own table alone, in two phases
   when the first sort key can be null (rows with a value in index order, then the rest):
   a single `NULLS LAST` order is one no index serves on both engines.
4. Only the page's rows are joined to everything they show (late materialisation).
5. `count=true` counts up to COUNT_CAP rows: exact below it, "at least" beyond.

Every statement is compiled once per shape (app.query.statements); values are always bound.
"""

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, Select, and_, false, func, literal, or_, select
from starlette.datastructures import URL

from app.errors import parameter_problem
from app.query.cursors import encode_cursor
from app.query.expressions import Chosen, IdSet, Unindexed
from app.query.names import no_such, unnamed
from app.query.operators import OPERATORS, Arity, Use
from app.query.plan import PROBE_CAP, Kind, Plan, Term, choose, drive
from app.query.snapshot import snapshot_version
from app.query.spec import AppliedFilter, Filter, Index, ListQuery, ListSpec, Page
from app.query.statements import STATEMENTS, Prepared, fetch, slot

COUNT_CAP = 10_000
INLINE_IDS = 16  # resolved ids bound one by one up to this many; beyond, as one list


class NothingMatches(Exception):
    """A lookup filter named nothing that exists: the page is empty, no statement runs."""


# Terms ---------------------------------------------------------------------------------


def _column_name(element: ColumnElement[Any]) -> str:
    return str(getattr(element, "name", ""))


def _direct_term(index: int, applied: AppliedFilter) -> Term:
    flt, operator = applied.filter, OPERATORS[applied.operator]
    names = [f"t{index}_{j}" for j in range(len(applied.values))]
    values: dict[str, Any] = {}
    if operator.arity is not Arity.FLAG:
        for name, value in zip(names, applied.values, strict=True):
            values[name] = operator.bind(value)
    slots = [slot(name) for name in names]
    use = operator.use(applied.values)

    def build(column: ColumnElement[Any]) -> ColumnElement[bool]:
        return operator.build(column, slots, applied.values, flt.nullable)

    shape = (
        flt.name,
        applied.operator,
        len(names),
        tuple(applied.values) if operator.arity is Arity.FLAG else None,
    )
    return Term(_column_name(flt.target), use, build, flt.target, shape, values)


def _resolve(
    connection: Connection,
    spec: ListSpec,
    applied: AppliedFilter,
    partner: AppliedFilter | None = None,
) -> list[Any]:
    lookup = applied.filter.lookup
    assert lookup is not None
    count = len(applied.values)
    values = {f"k{j}": value for j, value in enumerate(applied.values)}
    if lookup.paired is not None:  # reads its partner's values too (checked by terms_for)
        assert partner is not None
        paired, given = lookup.paired, len(partner.values)
        values.update({f"p{j}": value for j, value in enumerate(partner.values)})
        prepared = STATEMENTS.get(
            connection, ("resolve", spec.name, applied.filter.name, count, given),
            lambda: paired([slot(f"k{j}") for j in range(count)],
                           [slot(f"p{j}") for j in range(given)]),
        )  # fmt: skip
        return sorted({row["id"] for row in fetch(connection, prepared, values)})
    prepared = STATEMENTS.get(
        connection,
        ("resolve", spec.name, applied.filter.name, count),
        lambda: lookup.ids([slot(f"k{j}") for j in range(count)]),
    )
    rows = fetch(connection, prepared, values)
    return sorted({row["id"] for row in rows})


def id_set_value(connection: Connection, ids: Sequence[Any]) -> Any:
    """A list of ids as IdSet binds it: JSON text for SQLite's json_each, an array for
    PostgreSQL."""
    return orjson.dumps(list(ids)).decode() if connection.dialect.name == "sqlite" else list(ids)


def _ids_term(
    connection: Connection, flt: Filter, prefix: str, ids: list[Any], *, negate: bool
) -> Term:
    """`column IN ids` (or NOT IN), inline for a few ids and as one list beyond."""
    values: dict[str, Any]
    if len(ids) <= INLINE_IDS:
        names = [f"{prefix}_{j}" for j in range(len(ids))]
        values = dict(zip(names, ids, strict=True))
        slots = [slot(name) for name in names]
        use = Use.EQ if len(ids) == 1 else Use.SET

        def member(column: ColumnElement[Any]) -> ColumnElement[bool]:
            return column == slots[0] if len(slots) == 1 else column.in_(slots)

        shape: Hashable = ("inline", len(ids))
    else:
        values = {f"{prefix}_ids": id_set_value(connection, ids)}
        use, shape = Use.SET, "set"
        ids_slot = slot(f"{prefix}_ids")

        def member(column: ColumnElement[Any]) -> ColumnElement[bool]:
            return IdSet(column, ids_slot)

    def build(column: ColumnElement[Any]) -> ColumnElement[bool]:
        if not negate:
            return member(column)
        outside = ~member(column)
        return or_(outside, column.is_(None)) if flt.nullable else outside

    return Term(
        _column_name(flt.target),
        Use.OTHER if negate else use,
        build,
        flt.target,
        (negate, shape),
        values,
    )


@dataclass
class Members:
    """A lookup filter resolved: the ids its column must hold (or must not)."""

    filter: Filter
    ids: set[Any]
    negate: bool


def check_named(connection: Connection, applied: AppliedFilter) -> None:
    """Refuse a lookup filter's value that names no row (422, with the nearest names),
    whatever its operator: `city__ne=hefie` would otherwise exclude nothing in silence."""
    names = applied.filter.lookup.names if applied.filter.lookup else None
    if names is None:
        return
    values = list(dict.fromkeys(applied.values))
    missing = unnamed(connection, names, values, id_set_value(connection, values))
    if missing:
        value, level = missing[0]
        raise no_such(connection, names, applied.parameter, value, level)


def _members(
    connection: Connection,
    spec: ListSpec,
    applied: AppliedFilter,
    partner: AppliedFilter | None = None,
) -> Members | None:
    """The filter's ids; None when it excludes nothing.

    `__ne` on a lookup with a listable universe becomes membership in the other ids, so
    an index can serve it and a probe count it (not on a nullable column, whose rows with
    no value also differ).
    """
    flt = applied.filter
    lookup = flt.lookup
    assert lookup is not None
    ids = set(_resolve(connection, spec, applied, partner))
    if not OPERATORS[applied.operator].negated:
        if not ids:
            raise NothingMatches
        return Members(flt, ids, negate=False)
    if not ids:
        return None
    if lookup.universe is None or flt.nullable:
        return Members(flt, ids, negate=True)
    prepared = STATEMENTS.get(connection, ("universe", spec.name, flt.name), lookup.universe)
    rest = {row["id"] for row in fetch(connection, prepared, {})} - ids
    if not rest:
        raise NothingMatches
    return Members(flt, rest, negate=False)


def _merged(members: list[Members]) -> list[Members]:
    """One membership per column: the sets a column must be in intersected, less the ids it
    must not hold (two place filters that share no place match nothing, found here)."""
    result: list[Members] = []
    for column in dict.fromkeys(_column_name(m.filter.target) for m in members):
        same = [m for m in members if _column_name(m.filter.target) == column]
        inside = [m for m in same if not m.negate]
        outside: set[Any] = set().union(*(m.ids for m in same if m.negate))
        if not inside:
            result.append(Members(same[0].filter, outside, negate=True))
            continue
        ids = set.intersection(*(m.ids for m in inside)) - outside
        if not ids:
            raise NothingMatches
        result.append(Members(inside[0].filter, ids, negate=False))
    return result


def _rewritten(applied: AppliedFilter) -> AppliedFilter:
    """A filter as the equivalent its operator offers an index (`__ne` on a closed vocabulary
    as membership in the other values), or as it is."""
    flt, rewrite = applied.filter, OPERATORS[applied.operator].rewrite
    if rewrite is None or flt.nullable:
        return applied
    equivalent = rewrite(flt.kind, flt.choices, applied.values)
    if equivalent is None:
        return applied
    operator, values = equivalent
    if not values:
        raise NothingMatches
    return AppliedFilter(flt, operator, values)


def terms_for(
    connection: Connection, spec: ListSpec, filters: Sequence[AppliedFilter]
) -> list[Term]:
    """The filters as conditions on the list's own table, lookups resolved to ids."""
    terms: list[Term] = []
    members: list[Members] = []
    given = {applied.filter.name: applied for applied in filters}
    for index, applied in enumerate(filters):
        # a flag (`__isnull`) tests the column itself, also on a lookup filter
        if applied.filter.lookup is None or OPERATORS[applied.operator].arity is Arity.FLAG:
            terms.append(_direct_term(index, _rewritten(applied)))
            continue
        check_named(connection, applied)
        needs = applied.filter.lookup.needs
        partner = given.get(needs) if needs else None
        if needs and (partner is None or OPERATORS[partner.operator].negated):
            raise parameter_problem(applied.filter.name, f"needs {needs}= (with a value, not"
                                    f" {needs}__ne) to say what it is about")  # fmt: skip
        if (resolved := _members(connection, spec, applied, partner)) is not None:
            members.append(resolved)
    for index, merged in enumerate(_merged(members)):
        ids = sorted(merged.ids)
        terms.append(_ids_term(connection, merged.filter, f"r{index}", ids, negate=merged.negate))
    return terms


EXACT = 2**62  # a cap no table reaches: the count is exact


# Statements ----------------------------------------------------------------------------


def _table(spec: ListSpec) -> Any:
    return spec.id_column.table


def _where(spec: ListSpec, terms: Sequence[Term], plan: Plan) -> list[ColumnElement[Any]]:
    conditions: list[ColumnElement[Any]] = list(spec.scope)
    for term in terms:
        indexable = plan.allows(term.column)
        condition = term.condition(indexable)
        conditions.append(
            Chosen(condition) if indexable and plan.kind is not Kind.FREE else condition
        )
    return conditions


def _probe_statement(spec: ListSpec, terms: Sequence[Term], plan: Plan) -> Select[Any]:
    inner = (
        select(literal(1).label("one"))
        .select_from(_table(spec))
        .where(*_where(spec, terms, plan))
        .limit(slot("cap"))
    )
    return select(func.count().label("total")).select_from(inner.subquery())


def _capped_count(
    connection: Connection,
    spec: ListSpec,
    terms: Sequence[Term],
    cap: int,
    plan: Plan = Plan(Kind.FREE),  # noqa: B008  (frozen)
) -> int:
    """How many rows match, counting no further than `cap`, on the plan's index."""
    prepared = STATEMENTS.get(
        connection, ("count", spec.name, plan.signature, tuple(t.key for t in terms)),
        lambda: _probe_statement(spec, terms, plan),
    )  # fmt: skip
    values = {name: value for term in terms for name, value in term.values.items()}
    return int(fetch(connection, prepared, {**values, "cap": cap})[0]["total"])


def _prober(connection: Connection, spec: ListSpec) -> Callable[[Index, Sequence[Term]], int]:
    def probe(index: Index, terms: Sequence[Term]) -> int:
        return _capped_count(connection, spec, terms, PROBE_CAP)

    return probe


@dataclass(frozen=True)
class Key:
    """One key of the page's order: a sort field, or the id that breaks ties."""

    element: ColumnElement[Any]
    descending: bool
    nullable: bool


def _keys(spec: ListSpec, query: ListQuery) -> list[Key]:
    keys = [Key(sort.column, descending, sort.nullable) for sort, descending in query.sort]
    if query.sort[-1][0].column is not spec.id_column:  # the id breaks ties
        keys.append(Key(spec.id_column, query.sort[-1][1], False))
    return keys


def _after(keys: Sequence[Key], bounds: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `bounds` in the order of `keys` (nulls last). Tested row by row:
    the first key's own range term is what an index uses."""
    alternatives = []
    for i, key in enumerate(keys):
        if bounds[i] is None:
            continue  # nothing sorts after a null but rows equal on it (later keys decide)
        column = Unindexed(key.element)
        beyond = column < bounds[i] if key.descending else column > bounds[i]
        if key.nullable:
            beyond = or_(beyond, column.is_(None))
        equal = [
            Unindexed(k.element).is_(None) if b is None else Unindexed(k.element) == b
            for k, b in zip(keys[:i], bounds[:i], strict=True)
        ]
        alternatives.append(and_(*equal, beyond))
    return or_(*alternatives) if alternatives else false()


@dataclass(frozen=True)
class Phase:
    """A part of the order read by one statement: all rows, or (for a nullable first key)
    the rows with a value, then the rows without."""

    name: str  # "all", "values" or "nulls"
    keys: list[Key]
    after: list[Any] | None  # bounds for `keys`, from the cursor

    def terms(self, first: Key) -> list[Term]:
        """The phase's own conditions: which rows of the first key, and after the cursor."""
        first_column = _column_name(first.element)
        result: list[Term] = []
        if self.name == "values":
            result.append(
                Term(first_column, Use.RANGE, lambda c: c.is_not(None), first.element, "values")
            )
        elif self.name == "nulls":
            result.append(Term(first_column, Use.EQ, lambda c: c.is_(None), first.element, "nulls"))
        if self.after is None:
            return result
        lead, bound = self.keys[0], self.after[0]
        if bound is not None and self.name != "nulls":
            values = {"after_lead": bound}
            lead_slot = slot("after_lead")

            def within(column: ColumnElement[Any]) -> ColumnElement[bool]:
                return column <= lead_slot if lead.descending else column >= lead_slot

            result.append(Term(first_column, Use.RANGE, within, lead.element, "lead", values))
        names = [None if b is None else f"after{k}" for k, b in enumerate(self.after)]
        bounds = [None if n is None else slot(n) for n in names]
        values = {n: b for n, b in zip(names, self.after, strict=True) if n is not None}
        keys = self.keys
        result.append(
            Term("", Use.OTHER, lambda _c: _after(keys, bounds), lead.element,
                 ("after", tuple(n is None for n in names)), values)
        )  # fmt: skip
        return result


def _phases(spec: ListSpec, query: ListQuery) -> list[Phase]:
    keys = _keys(spec, query)
    after = None if query.after is None else query.after[: len(keys)]
    if not keys[0].nullable:
        return [Phase("all", keys, after)]
    rest = keys[1:]
    if after is None:
        return [Phase("values", keys, None), Phase("nulls", rest, None)]
    if after[0] is None:
        return [Phase("nulls", rest, after[1:])]
    return [Phase("values", keys, after), Phase("nulls", rest, None)]


def _order_by(keys: Sequence[Key], plan: Plan, phase: str) -> list[Any]:
    clauses = []
    for position, key in enumerate(keys):
        element = (
            key.element
            if plan.order_indexable or plan.kind is Kind.FREE
            else Unindexed(key.element)
        )
        clause = element.desc() if key.descending else element.asc()
        if key.nullable and not (position == 0 and phase == "values"):
            clause = clause.nulls_last()
        clauses.append(clause)
    return clauses


def _ids_statement(
    spec: ListSpec, keys: Sequence[Key], terms: Sequence[Term], plan: Plan, phase: str
) -> Select[Any]:
    columns = [key.element.label(f"_k{i}") for i, key in enumerate(keys)]
    return (
        select(spec.id_column.label("_id"), *columns)
        .select_from(_table(spec))
        .where(*_where(spec, terms, plan))
        .order_by(*_order_by(keys, plan, phase))
        .limit(slot("page_limit"))
    )


def _rows_statement(spec: ListSpec) -> Select[Any]:
    return (
        spec.base()
        .add_columns(spec.id_column.label("_id"))
        .where(IdSet(spec.id_column, slot("page_ids")))
    )


# Running -------------------------------------------------------------------------------


def _read_ids(
    connection: Connection, spec: ListSpec, query: ListQuery, terms: Sequence[Term]
) -> list[dict[str, Any]]:
    """The page's ids and sort values (one row more than the limit, if there is one), each
    phase planned for its own conditions."""
    first = _keys(spec, query)[0]
    wanted = query.limit + 1
    found: list[dict[str, Any]] = []
    for phase in _phases(spec, query):
        phase_terms = [*terms, *phase.terms(first)]
        rows = _read_phase(connection, spec, phase, phase_terms, wanted - len(found))
        found.extend(_normalise(rows, phase, len(query.sort)))
        if len(found) >= wanted:
            break
    return found


def _read_phase(
    connection: Connection, spec: ListSpec, phase: Phase, terms: list[Term], limit: int
) -> list[dict[str, Any]]:
    columns = [_column_name(key.element) for key in phase.keys]
    plan = choose(spec, terms, columns, _prober(connection, spec))
    order = tuple((column, key.descending) for column, key in zip(columns, phase.keys, strict=True))
    shape = (spec.name, "ids", phase.name, plan.signature, tuple(t.key for t in terms), order)
    prepared = STATEMENTS.get(
        connection, shape, lambda: _ids_statement(spec, phase.keys, terms, plan, phase.name)
    )
    values = {name: value for term in terms for name, value in term.values.items()}
    return fetch(connection, prepared, {**values, "page_limit": limit})


def _normalise(rows: list[dict[str, Any]], phase: Phase, sorts: int) -> list[dict[str, Any]]:
    """Rows as [sort values..., id] whatever the phase (a nulls phase has no first key)."""
    offset = 1 if phase.name == "nulls" else 0
    result = []
    for row in rows:
        values = [None] * offset + [row[f"_k{i}"] for i in range(sorts - offset)]
        result.append({"_id": row["_id"], "keys": [*values, row["_id"]]})
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


def run_query(
    connection: Connection,
    spec: ListSpec,
    query: ListQuery,
    *,
    secret: str,
    fixed: Sequence[AppliedFilter] = (),
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
    items = [spec.serialize(row) for row in materialise(connection, spec, [r["_id"] for r in rows])]
    for applied in query.filters:
        if applied.filter.annotate is not None:
            applied.filter.annotate(connection, items, applied)
    kept = query.fields
    if augment is not None and spec.augment is not None:
        spec.augment.apply(connection, items, augment)
        kept = None if kept is None else (*kept, spec.augment.name)
    if kept is not None:
        items = [{name: item[name] for name in kept} for item in items]
    page = Page(items, next_cursor)
    if query.count:
        # Counted on the index whose probe matched fewest rows, chosen for the filters
        # alone (the page's plan may be a nulls phase's, or a walk of the sort key).
        driven = drive(spec, terms, _prober(connection, spec), "") if spec.indexes else None
        total = _capped_count(connection, spec, terms, COUNT_CAP + 1, driven or Plan(Kind.FREE))
        page.total, page.total_exact = min(total, COUNT_CAP), total <= COUNT_CAP
    return page


def count_matching(connection: Connection, spec: ListSpec, filters: Sequence[AppliedFilter]) -> int:
    """How many rows of the list the filters match, exactly (a detail's counts)."""
    try:
        terms = terms_for(connection, spec, filters)
    except NothingMatches:
        return 0
    return _capped_count(connection, spec, terms, EXACT)


def page_body(request_url: URL, query: ListQuery, page: Page) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "returned": len(page.items),
        "limit": query.limit,
        "sort": [("-" if desc else "") + s.name for s, desc in query.sort],
        "filters": [f.describe() for f in query.filters],
        "next_cursor": page.next_cursor,
    }
    if query.fields is not None:
        meta["fields"] = list(query.fields)
    if page.total is not None:
        meta["total"] = page.total
        meta["total_relation"] = "eq" if page.total_exact else "gte"
    next_url = (
        str(request_url.include_query_params(cursor=page.next_cursor)) if page.next_cursor else None
    )
    return {"data": page.items, "meta": meta, "links": {"self": str(request_url), "next": next_url}}


def describe_cost(query: ListQuery) -> str:
    """The filters and sort of a query, as a refusal names them."""
    filters = ", ".join(f.parameter for f in query.filters) or "none"
    return f"filters: {filters}; sort: {query.sort_signature}"

"""A list's filters as terms on its own table: direct conditions where the column is the
list's, and lookup filters (a place and everything inside it, an organization by slug)
resolved to ids first by small statements of their own (app.query.lookups), members of
the same filter merged. The planner (app.query.plan) picks an access path over these terms;
app.query.execute runs it."""

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, and_, or_

from ..errors import parameter_problem
from .expressions import IdSet
from .memo import ANSWERS
from .names import no_such, unnamed
from .operators import OPERATORS, Arity, Use
from .plan import Term
from .spec import Condition, Filter, ListSpec
from .statements import STATEMENTS, fetch, slot

INLINE_IDS = 16  # resolved ids bound one by one up to this many; beyond, as one list


class NothingMatches(Exception):
    """A lookup filter named nothing that exists: the page is empty, no statement runs."""


def column_name(element: ColumnElement[Any]) -> str:
    return str(getattr(element, "name", ""))


def _direct_term(index: int | str, applied: Condition) -> Term:
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
    return Term(column_name(flt.target), use, build, flt.target, shape, values)


IMPLIED = "implied"  # the first part of an implied term's shape


def _implied_terms(index: int | str, applied: Condition) -> list[Term]:
    """The range of another column the filter implies (`Filter.implies`), as a term the
    planner may use; the filter's own term still decides which rows match."""
    implied = applied.filter.implies
    bounds = None if implied is None else implied.bounds(applied.operator, applied.values)
    if implied is None or bounds is None:
        return []
    first, last = bounds
    values = {name: value for name, value in ((f"i{index}_lo", first), (f"i{index}_hi", last))
              if value is not None}  # fmt: skip

    def build(column: ColumnElement[Any]) -> ColumnElement[bool]:
        conditions = [column >= slot(f"i{index}_lo")] if first is not None else []
        if last is not None:
            conditions.append(column <= slot(f"i{index}_hi"))
        return and_(*conditions)

    shape = (IMPLIED, applied.filter.name, first is None, last is None)
    return [Term(column_name(implied.column), Use.RANGE, build, implied.column, shape, values)]


def implied_by(term: Term, name: str) -> bool:
    """Whether `term` is the range the filter `name` implies on another column."""
    return isinstance(term.shape, tuple) and term.shape[:2] == (IMPLIED, name)


def equal_terms(spec: ListSpec, element: ColumnElement[Any], value: Any) -> list[Term]:
    """`element = value` as terms of the list's own table, bound to names of the column's
    own (runs nest: a year's, then a period end's): through the filter on that column where
    there is one, so the range it implies comes too (a year's period ends), else as a bare
    equality."""
    name = column_name(element)
    flt = next((f for f in spec.filters if f.lookup is None and f.target is element), None)
    if flt is not None and "exact" in flt.operators:
        applied = Condition(flt, "exact", [value])
        prefix = f"run_{name}"
        return [_direct_term(prefix, applied), *_implied_terms(prefix, applied)]
    equal = slot(f"run_{name}")
    values = {f"run_{name}": value}
    return [Term(name, Use.EQ, lambda c: c == equal, element, "run", values)]


def _resolve(
    connection: Connection,
    spec: ListSpec,
    applied: Condition,
    partner: Condition | None = None,
) -> list[Any]:
    """The ids the filter's values name, read once per database and dataset version."""
    key = ("resolve", spec.name, applied.filter.name, tuple(applied.values),
           None if partner is None else tuple(partner.values))  # fmt: skip
    return ANSWERS.get(connection, key, lambda: _read_ids(connection, spec, applied, partner))


def _read_ids(
    connection: Connection,
    spec: ListSpec,
    applied: Condition,
    partner: Condition | None,
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
        column_name(flt.target),
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


def _members(
    connection: Connection,
    spec: ListSpec,
    applied: Condition,
    partner: Condition | None = None,
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
    universe = lookup.universe
    prepared = STATEMENTS.get(connection, ("universe", spec.name, flt.name), universe)
    every = ANSWERS.get(connection, ("universe", spec.name, flt.name),
                        lambda: [row["id"] for row in fetch(connection, prepared, {})])  # fmt: skip
    rest = set(every) - ids
    if not rest:
        raise NothingMatches
    return Members(flt, rest, negate=False)


def _merged(members: list[Members]) -> list[Members]:
    """One membership per column: the sets a column must be in intersected, less the ids it
    must not hold (two place filters that share no place match nothing, found here)."""
    result: list[Members] = []
    for column in dict.fromkeys(column_name(m.filter.target) for m in members):
        same = [m for m in members if column_name(m.filter.target) == column]
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


def _rewritten(applied: Condition) -> Condition:
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
    return Condition(flt, operator, values)


def check_named(connection: Connection, applied: Condition) -> None:
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


def terms_for(connection: Connection, spec: ListSpec, filters: Sequence[Condition]) -> list[Term]:
    """The filters as conditions on the list's own table, lookups resolved to ids."""
    terms: list[Term] = []
    members: list[Members] = []
    given = {applied.filter.name: applied for applied in filters}
    for index, applied in enumerate(filters):
        # a flag (`__isnull`) tests the column itself, also on a lookup filter
        if applied.filter.lookup is None or OPERATORS[applied.operator].arity is Arity.FLAG:
            terms.append(_direct_term(index, _rewritten(applied)))
            terms.extend(_implied_terms(index, applied))
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

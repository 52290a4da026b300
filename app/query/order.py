"""The order of a page: its keys, the phases that read them, and the cursor's bounds.

A nullable first key is read in two phases, the rows with a value in index order and then
the rest: one `NULLS LAST` order is one no index serves on both engines.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_

from .expressions import Unindexed
from .operators import Use
from .plan import Plan, PlanKind, Term
from .spec import ListQuery, ListSpec
from .statements import slot
from .terms import column_name


@dataclass(frozen=True)
class Key:
    """One key of the page's order: a sort field, or the id that breaks ties."""

    element: ColumnElement[Any]
    descending: bool
    nullable: bool


def keys_of(spec: ListSpec, query: ListQuery) -> list[Key]:
    """The page's order: the sort's keys, then the id where the sort does not end in it."""
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
    first: Key  # the order's first key (a nulls phase's keys are those after it)

    def terms(self) -> list[Term]:
        """The phase's own conditions: which rows of the first key, and after the cursor."""
        first = self.first
        first_column = column_name(first.element)
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

            shape = ("lead", lead.descending)  # the direction decides the SQL: `<=` or `>=`
            result.append(Term(first_column, Use.RANGE, within, lead.element, shape, values))
        names = [None if b is None else f"after{k}" for k, b in enumerate(self.after)]
        bounds = [None if n is None else slot(n) for n in names]
        values = {n: b for n, b in zip(names, self.after, strict=True) if n is not None}
        keys = self.keys
        result.append(
            Term("", Use.OTHER, lambda _c: _after(keys, bounds), lead.element,
                 ("after", tuple(n is None for n in names)), values)
        )  # fmt: skip
        return result


def phases(keys: list[Key], after: list[Any] | None) -> list[Phase]:
    """The phases that read rows in the order of `keys`, from the cursor's `after` on."""
    if not keys[0].nullable:
        return [Phase("all", keys, after, keys[0])]
    rest = keys[1:]
    if after is None:
        return [Phase("values", keys, None, keys[0]), Phase("nulls", rest, None, keys[0])]
    if after[0] is None:
        return [Phase("nulls", rest, after[1:], keys[0])]
    return [Phase("values", keys, after, keys[0]), Phase("nulls", rest, None, keys[0])]


def order_by(keys: Sequence[Key], plan: Plan, phase: str) -> list[Any]:
    clauses = []
    for position, key in enumerate(keys):
        element = (
            key.element
            if plan.order_indexable or plan.kind is PlanKind.FREE
            else Unindexed(key.element)
        )
        clause = element.desc() if key.descending else element.asc()
        if key.nullable and not (position == 0 and phase == "values"):
            clause = clause.nulls_last()
        clauses.append(clause)
    return clauses

"""The statements a place's standings are counted with (app.query.standings): the candidate
facts of a peer group, their spread by period and level, and the counts of peers above,
below and level with a value, each a range of an index by value where it can be."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    and_,
    case,
    func,
    or_,
    select,
)

from ..facts.latest import recency_order
from ..models import tables as t
from .expressions import IdSet
from .rankings import LEVEL_TIERS, inside
from .statements import slot

o = t.observation
Flags = tuple[bool, bool, bool, bool]  # a year, an area, a level, the same period


def _chosen(fact: FromClause, year: bool) -> ColumnElement[bool]:
    """`fact` is the one its place's value for the period is read from: the fact marked
    latest, or in a year the most recent of that year (app.facts.latest), found without a
    sort when it is its place's only fact of the year."""
    if not year:
        return fact.c.latest
    same = (
        o.c.indicator_id == fact.c.indicator_id,
        o.c.year == slot("year"),
        o.c.subject_kind == "place",
        o.c.place_id == fact.c.place_id,
    )
    other = select(o.c.id).where(*same, o.c.id != fact.c.id).exists()
    latest = (
        select(o.c.id)
        .select_from(o.join(t.source, t.source.c.id == o.c.source_id))
        .where(*same)
        .order_by(*recency_order())
        .limit(1)
        .scalar_subquery()
    )
    return and_(fact.c.year == slot("year"), or_(~other, fact.c.id == latest))


@dataclass(frozen=True)
class _Parts:
    home: FromClause  # the place's own fact of each indicator
    peer: FromClause
    joined: FromClause
    conditions: list[ColumnElement[bool]]
    same: ColumnElement[bool]  # the peer's period is the place's


def home_statement(year: bool) -> Select[Any]:
    """The place's own fact of each indicator."""
    mine = o.alias("mine")
    return (
        select(mine.c.indicator_id, mine.c.id, mine.c.value, mine.c.period_start,
               mine.c.period_end)
        .where(mine.c.place_id == slot("place_id"), mine.c.subject_kind == "place",
               _chosen(mine, year))
    )  # fmt: skip


def _parts(flags: Flags) -> _Parts:
    """The place's facts joined to their peers', each peer's fact picked."""
    year, within, level, _ = flags
    peer = o.alias("peer")
    home = home_statement(year).subquery("home")
    conditions = [peer.c.subject_kind == "place", _chosen(peer, year)]
    if within:
        conditions.append(inside(peer.c.place_id))
    if level:
        conditions.append(t.place.c.level == slot("level"))
    joined = home.join(peer, peer.c.indicator_id == home.c.indicator_id).join(
        t.place, t.place.c.id == peer.c.place_id
    )
    same = and_(
        peer.c.period_start.is_not_distinct_from(home.c.period_start),
        peer.c.period_end.is_not_distinct_from(home.c.period_end),
    )
    return _Parts(home, peer, joined, conditions, same)


def levels_of(tier: str) -> list[str]:
    """The levels of one administrative level of LEVEL_TIERS (or a level of none)."""
    return [level.value for level, its in LEVEL_TIERS.items() if its == tier] or [tier]


def counted_statement(flags: Flags, tier: str) -> Select[Any]:
    """Per indicator of some, the place's fact and its peers counted, each place's fact of
    the year picked (where a place has several): all of them (against the cap), those
    ranked, those above it and level with it (the rest are below), the place itself, and
    those sharing its period and its level (`tier`), where the group does not say so
    already. Grouped by the indicator alone, the place's facts are read in the order of its
    index and no peer is sorted."""
    parts = _parts(flags)
    home, peer, level, period = parts.home, parts.peer, flags[2], flags[3]

    def counted(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        kept = and_(parts.same, condition) if period else condition
        return func.sum(case((kept, 1), else_=0))

    return (
        select(
            home.c.indicator_id,
            *(func.min(home.c[name]).label(name)  # one fact per indicator
              for name in ("id", "value", "period_start", "period_end")),
            func.count().label("every"),
            (counted(parts.same) if period else func.count()).label("size"),
            counted(peer.c.value > home.c.value).label("higher"),
            counted(peer.c.value == home.c.value).label("equal"),
            counted(peer.c.place_id == slot("place_id")).label("itself"),
            *([] if period else [counted(parts.same).label("same_period")]),
            *([] if level else [counted(t.place.c.level.in_(levels_of(tier)))
                                .label("same_level")]),
        )
        .select_from(parts.joined)
        .where(*parts.conditions, IdSet(home.c.indicator_id, slot("ids")))
        .group_by(home.c.indicator_id)
    )  # fmt: skip


def spread_statement(flags: Flags) -> Select[Any]:
    """The ranked peers of some indicators counted by period and level, with the highest
    and lowest value of each."""
    parts = _parts(flags)
    peer = parts.peer
    kept = [parts.same] if flags[3] else []
    return (
        select(
            parts.home.c.indicator_id, peer.c.period_start, peer.c.period_end,
            t.place.c.level, func.count().label("peers"),
            func.max(peer.c.value).label("highest"), func.min(peer.c.value).label("lowest"),
        )
        .select_from(parts.joined)
        .where(*parts.conditions, *kept, IdSet(parts.home.c.indicator_id, slot("ids")))
        .group_by(parts.home.c.indicator_id, peer.c.period_start, peer.c.period_end,
                  t.place.c.level)
    )  # fmt: skip


def first_statement(flags: Flags) -> Select[Any]:
    """One indicator's ranked peers of one value: their periods, levels and slugs (only
    when two periods or levels tie on their count and their best value)."""
    parts = _parts(flags)
    peer = parts.peer
    kept = [parts.same] if flags[3] else []
    return (
        select(peer.c.period_start, peer.c.period_end, t.place.c.level, t.place.c.slug)
        .select_from(parts.joined)
        .where(*parts.conditions, *kept, parts.home.c.indicator_id == slot("indicator_id"),
               peer.c.value == slot("value"))
    )  # fmt: skip


def _candidates(peer: FromClause, year: bool, within: bool = False) -> list[ColumnElement[bool]]:
    """A place's facts that may be its value in a ranking: the latest, or those of the
    year (the one picked where a place has several is left to `counted_statement`); `within`, of a
    place in the group's area."""
    chosen = peer.c.year == slot("year") if year else peer.c.latest
    return [peer.c.subject_kind == "place", chosen, *([inside(peer.c.place_id)] if within else [])]


def spread_of_all_statement(year: bool, within: bool, split: bool) -> Select[Any]:
    """Every candidate fact of some indicators, whatever the place, counted with the
    highest and lowest value: the same for every place, so read once per dataset version
    (`_spreads`). Not `split`, by indicator alone, read in the order of the index, with the
    range of their periods and levels (and in a year, their places: as many as the facts
    unless a place has several); `split`, by period and level as well."""
    peer = o.alias("peer")
    keys = (peer.c.period_start, peer.c.period_end, t.place.c.level)
    described = (
        [*keys] if split else
        [*([func.count(peer.c.place_id.distinct()).label("places")] if year else []),
         func.count(peer.c.period_start).label("starts"),
         func.count(peer.c.period_end).label("ends"),
         *(f(key).label(f"{name}_{key.name}") for key in keys
           for name, f in (("min", func.min), ("max", func.max)))]
    )  # fmt: skip
    return (
        select(
            peer.c.indicator_id, *described, func.count().label("facts"),
            func.max(peer.c.value).label("highest"), func.min(peer.c.value).label("lowest"),
        )
        .select_from(peer.join(t.place, t.place.c.id == peer.c.place_id))
        .where(IdSet(peer.c.indicator_id, slot("ids")), *_candidates(peer, year, within))
        .group_by(peer.c.indicator_id, *(keys if split else ()))
    )  # fmt: skip


def ranged_statement(flags: Flags, checked: bool) -> Select[Any]:
    """The place's fact of some indicators, with the candidate facts beyond it (above it
    for the indicators `above`, below it for the others) and level with it counted, each
    count one range of the indicator's facts by value. `checked`, each fact's place is
    read for its level; otherwise every candidate is a peer."""
    year, within, _, period = flags
    home = home_statement(year).subquery("home")

    def counted(compared: Callable[[ColumnElement[Any]], ColumnElement[bool]]) -> Any:
        peer = o.alias("peer")
        conditions = [
            peer.c.indicator_id == home.c.indicator_id,
            *_candidates(peer, year),
            compared(peer.c.value),
        ]
        if within:
            # Each fact of the range checked against the area's places (`+ 0` keeps the
            # planner from seeking each place's facts instead: three seeks per place and
            # indicator, 40 ms for a province of 370 cities at 3M rows against 20 ms).
            conditions.append(inside(peer.c.place_id + 0))
        if period:
            conditions += [
                peer.c.period_start.is_not_distinct_from(home.c.period_start),
                peer.c.period_end.is_not_distinct_from(home.c.period_end),
            ]
        facts: FromClause = peer
        if checked:
            facts = peer.join(t.place, t.place.c.id == peer.c.place_id)
            conditions.append(t.place.c.level == slot("level"))
        return select(func.count()).select_from(facts).where(*conditions).scalar_subquery()

    beyond = case(
        (IdSet(home.c.indicator_id, slot("above")), counted(lambda v: v > home.c.value)),
        else_=counted(lambda v: v < home.c.value),
    )
    return (
        select(
            home.c.indicator_id, home.c.id, home.c.value, home.c.period_start,
            home.c.period_end, beyond.label("beyond"),
            # As a range: PostgreSQL took `=` to the index of every year's facts by value
            # and read each one's row for its flag (a twentieth of them latest).
            counted(lambda v: and_(v >= home.c.value, v <= home.c.value)).label("equal"),
        )
        .where(IdSet(home.c.indicator_id, slot("ids")))
    )  # fmt: skip


def area_places() -> Select[Any]:
    """The place itself, if it lies in the group's area."""
    return select(t.place.c.id).where(t.place.c.id == slot("place_id"), inside(t.place.c.id))


def middle_statement(year: bool, within: bool) -> Select[Any]:
    """The value half an indicator's candidate facts lie below."""
    return (
        select(o.c.value)
        .where(o.c.indicator_id == slot("indicator_id"), *_candidates(o, year, within))
        .order_by(o.c.value)
        .limit(1)
        .offset(slot("offset"))
    )

"""A place's standings on every indicator it has a value of, counted in SQL.

The rules are app.query.rankings': the same peers, the same fact picked for each, the same
ranks, percentiles and comparability. Only the place's own standing is wanted, so no
peer's value leaves the database: for each indicator, its rank is one more than the peers
with a better value, and its percentile follows from the peers with an equal one and the
group's size (`rank` says why). Each count reads one index range per indicator, so the cost
grows with the indicators and their peers, not with the table.

A standing compares like with like when the place's period and level are the group's (its
most common, a tie going to the better ranked). When every peer shares the place's period
and level, the counts say so; otherwise the peers are counted by period and level, and only
when two of those tie for the most common, on their count and their best value, is the best
ranked peer of each found by its slug.
"""

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Select,
    and_,
    case,
    func,
    or_,
    select,
)

from app.facts.latest import recency_order
from app.models import tables as t
from app.models.vocabulary import PlaceLevel
from app.query.expressions import IdSet
from app.query.rankings import (
    LEVEL_TIERS,
    MAX_PEERS,
    Comparability,
    Peer,
    Peers,
    Standing,
    alone,
    grouped,
    inside,
    percentile,
    read_date,
)
from app.query.statements import fetch_all, slot
from app.query.terms import id_set_value

o = t.observation
Period = tuple[date | None, date | None]
K = TypeVar("K")
Flags = tuple[bool, bool, bool, bool]  # a year, an area, a level, the same period


@dataclass(frozen=True)
class CountedStanding:
    """A place's standing on one indicator as counted in SQL, with its peer group; the API's
    `PlaceStanding` (app.api.standings) is the row a client reads."""

    standing: Standing
    size: int  # the peers ranked, the place included
    group: Comparability


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


def _parts(flags: Flags, *, exact: bool = True) -> _Parts:
    """The place's facts joined to their peers'. Not `exact`, a year's peers are every fact
    of the year: the pick among a place's facts of the year is left out, to be made only
    where a place has more than one."""
    year, within, level, _ = flags
    mine, peer = o.alias("mine"), o.alias("peer")
    home = (
        select(mine.c.indicator_id, mine.c.id, mine.c.value, mine.c.period_start,
               mine.c.period_end)
        .where(mine.c.place_id == slot("place_id"), mine.c.subject_kind == "place",
               _chosen(mine, year))
        .subquery("home")
    )  # fmt: skip
    chosen = _chosen(peer, year) if exact or not year else peer.c.year == slot("year")
    conditions = [peer.c.subject_kind == "place", chosen]
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


def _levels_of(tier: str) -> list[str]:
    """The levels of one administrative level of LEVEL_TIERS (or a level of none)."""
    return [level.value for level, its in LEVEL_TIERS.items() if its == tier] or [tier]


def _counted(flags: Flags, tier: str, again: bool) -> Select[Any]:
    """Per indicator, the place's fact and its peers counted: all of them (against the
    cap), those ranked, those above it and level with it (the rest are below), the place
    itself, and those sharing its period and its level (`tier`), where the group does not
    say so already. Grouped by the indicator alone, the place's facts are read in the order
    of its index and no peer is sorted.

    In a year, every fact of the year is counted first, with their places: the counts are
    right where the places are as many as the facts. The other indicators are counted
    `again`, each place's fact picked."""
    exact = again or not flags[0]
    parts = _parts(flags, exact=exact)
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
            *([] if exact else [func.count(peer.c.place_id.distinct()).label("places")]),
            (counted(parts.same) if period else func.count()).label("size"),
            counted(peer.c.value > home.c.value).label("higher"),
            counted(peer.c.value == home.c.value).label("equal"),
            counted(peer.c.place_id == slot("place_id")).label("itself"),
            *([] if period else [counted(parts.same).label("same_period")]),
            *([] if level else [counted(t.place.c.level.in_(_levels_of(tier)))
                                .label("same_level")]),
        )
        .select_from(parts.joined)
        .where(*parts.conditions, *([IdSet(home.c.indicator_id, slot("ids"))] if again else []))
        .group_by(home.c.indicator_id)
    )  # fmt: skip


def _spread(flags: Flags) -> Select[Any]:
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


def _first(flags: Flags) -> Select[Any]:
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


def place_standings(
    connection: Connection,
    place: Mapping[str, Any],
    year: int | None,
    peers: Peers,
    same_period: bool,
    descending: Mapping[int, bool],
) -> dict[int, CountedStanding] | None:
    """The place's standing on each indicator (by id) it has a value of and is ranked on
    among `peers`, the most valuable first where `descending` says so; None when an
    indicator has more than MAX_PEERS peers."""
    flags = (year is not None, peers.within_id is not None, peers.level is not None,
             same_period)  # fmt: skip
    tier = _tier_of(place["level"])
    values = {"place_id": place["id"], **peers.bound(year)}
    rows = _counted_rows(connection, flags, tier, values)
    if any(row["every"] > MAX_PEERS for row in rows):
        return None
    found: dict[int, CountedStanding] = {}
    mixed: list[int] = []
    for row in rows:
        if not row["itself"]:  # the place lies outside the group
            continue
        period = _period(row)
        mine = Peer(row["id"], place["id"], place["slug"], float(row["value"]), period,
                    place["level"])  # fmt: skip
        size, higher, equal = row["size"], row["higher"], row["equal"]
        lower = size - higher - equal
        better, worse = (higher, lower) if descending[row["indicator_id"]] else (lower, higher)
        standing = Standing(mine, better + 1, percentile(size, worse))
        if size == 1:
            group = alone(mine)
        # Peers of one period, or of one level, share the place's: it is among them.
        elif row.get("same_period", size) == size and row.get("same_level", size) == size:
            group = grouped(Counter({mine.period: size}), Counter({mine.tier: size}))
        else:
            mixed.append(row["indicator_id"])
            group = alone(mine)  # replaced below by the group's counts by period and level
        found[row["indicator_id"]] = CountedStanding(standing, size, group)
    if mixed:
        groups = _groups(connection, flags, values, sorted(mixed), descending)
        for indicator_id, group in groups.items():
            found[indicator_id] = CountedStanding(
                found[indicator_id].standing, found[indicator_id].size, group
            )
    return found


def _counted_rows(
    connection: Connection, flags: Flags, tier: str, values: dict[str, Any]
) -> list[dict[str, Any]]:
    """The counts of every indicator: in a year, first with every fact of the year, then
    exactly (each place's fact picked) for the indicators where a place has more than one."""
    rows = fetch_all(connection, ("standings", *flags, tier, False),
                     lambda: _counted(flags, tier, False), values)  # fmt: skip
    again = sorted(
        row["indicator_id"] for row in rows if row.get("places", row["every"]) != row["every"]
    )
    if not again:
        return rows
    exact = fetch_all(connection, ("standings", *flags, tier, True),
                      lambda: _counted(flags, tier, True),
                      {**values, "ids": id_set_value(connection, again)})  # fmt: skip
    return [row for row in rows if row["indicator_id"] not in again] + exact


Part = tuple[Period, str, int, float]  # a period, a level, its peers, their best value


def _groups(
    connection: Connection,
    flags: Flags,
    values: dict[str, Any],
    ids: list[int],
    descending: Mapping[int, bool],
) -> dict[int, Comparability]:
    """The comparability of each indicator whose peers mix periods or levels, from their
    counts by period and level."""
    rows = fetch_all(connection, ("standings-spread", *flags), lambda: _spread(flags),
                     {**values, "ids": id_set_value(connection, ids)})  # fmt: skip
    spread: dict[int, list[Part]] = {i: [] for i in ids}
    for row in rows:
        best = row["highest"] if descending[row["indicator_id"]] else row["lowest"]
        period = _period(row)
        spread[row["indicator_id"]].append((period, row["level"], row["peers"], float(best)))
    answer = {}
    for indicator_id, parts in spread.items():
        sign = -1.0 if descending[indicator_id] else 1.0

        def first(value: float, indicator_id: int = indicator_id) -> list[tuple[Period, str, str]]:
            found = fetch_all(connection, ("standings-first", *flags), lambda: _first(flags),
                              {**values, "indicator_id": indicator_id, "value": value})  # fmt: skip
            return [(_period(r), r["level"], r["slug"]) for r in found]

        periods = ordered_counts(parts, lambda period, _: period, sign, first)
        levels = ordered_counts(parts, lambda _, level: _tier_of(level), sign, first)
        answer[indicator_id] = grouped(periods, levels)
    return answer


def ordered_counts(
    parts: list[Part],
    of: Callable[[Period, str], K],
    sign: float,
    first: Callable[[float], list[tuple[Period, str, str]]],
) -> Counter[K]:
    """The peers counted by `of` their period and level, in the order of each key's best
    ranked peer (as far as the most common keys need it)."""
    counts: dict[K, int] = {}
    best: dict[K, float] = {}
    for period, level, peers, value in parts:
        key = of(period, level)
        counts[key] = counts.get(key, 0) + peers
        if key not in best or sign * value < sign * best[key]:
            best[key] = value
    most = max(counts.values())
    leaders = [key for key in counts if counts[key] == most]
    lead = min(sign * best[key] for key in leaders)
    tied = [key for key in leaders if sign * best[key] == lead]
    slugs: dict[K, str] = {}
    if len(tied) > 1:  # the better ranked of the tied: the first slug of their best value
        for period, level, slug in first(best[tied[0]]):
            key = of(period, level)
            if key in tied and (key not in slugs or slug < slugs[key]):
                slugs[key] = slug
    ordered = sorted(counts, key=lambda key: (sign * best[key], slugs.get(key, "")))
    return Counter({key: counts[key] for key in ordered})


def _period(row: Mapping[str, Any]) -> Period:
    return read_date(row["period_start"]), read_date(row["period_end"])


def _tier_of(level: str) -> str:
    return LEVEL_TIERS.get(PlaceLevel(level), level)

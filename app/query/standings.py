"""A place's standings on every indicator it has a value of, counted in SQL.

The rules are app.query.rankings': the same peers, the same fact picked for each, the same
ranks, percentiles and comparability. Only the place's own standing is wanted, so no
peer's value leaves the database: for each indicator, its rank is one more than the peers
with a better value, and its percentile follows from the peers with an equal one and the
group's size (`rank` says why).

What does not depend on the place is read once per dataset version and peer group
(app.query.memo): each indicator's candidate facts (the latest of each place, or its one
of the year) in the group's area, counted by period and level, with their highest and
lowest value, and the value half of all candidates lie below. The group's size, and how
many of it share the place's period and level, follow from those counts; what is left is
counted per request as ranges of an index by value (0017): the peers level with the
place's value, and those above it or below it, whichever side is shorter (the middle
says). Where every candidate is of the group's level, no peer's place is read; in an
area, the planner may count its places' facts instead, each one a seek of the 0016
indexes. In a year where a place has more than one fact of an indicator, that indicator's
peers are counted in one pass over them (`_counted`), each one's fact picked.

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
from functools import partial
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
from app.query.memo import ANSWERS
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


def _home(year: bool) -> Select[Any]:
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
    home = _home(year).subquery("home")
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


def _levels_of(tier: str) -> list[str]:
    """The levels of one administrative level of LEVEL_TIERS (or a level of none)."""
    return [level.value for level, its in LEVEL_TIERS.items() if its == tier] or [tier]


def _counted(flags: Flags, tier: str) -> Select[Any]:
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
            *([] if level else [counted(t.place.c.level.in_(_levels_of(tier)))
                                .label("same_level")]),
        )
        .select_from(parts.joined)
        .where(*parts.conditions, IdSet(home.c.indicator_id, slot("ids")))
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


def _candidates(peer: FromClause, year: bool, within: bool = False) -> list[ColumnElement[bool]]:
    """A place's facts that may be its value in a ranking: the latest, or those of the
    year (the one picked where a place has several is left to `_counted`); `within`, of a
    place in the group's area."""
    chosen = peer.c.year == slot("year") if year else peer.c.latest
    return [peer.c.subject_kind == "place", chosen, *([inside(peer.c.place_id)] if within else [])]


def _spread_of_all(year: bool, within: bool, split: bool) -> Select[Any]:
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


def _ranged(flags: Flags, checked: bool) -> Select[Any]:
    """The place's fact of some indicators, with the candidate facts beyond it (above it
    for the indicators `above`, below it for the others) and level with it counted, each
    count one range of the indicator's facts by value. `checked`, each fact's place is
    read for its level; otherwise every candidate is a peer."""
    year, within, _, period = flags
    home = _home(year).subquery("home")

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


def _inside() -> Select[Any]:
    """The place itself, if it lies in the group's area."""
    return select(t.place.c.id).where(t.place.c.id == slot("place_id"), inside(t.place.c.id))


def _middle(year: bool, within: bool) -> Select[Any]:
    """The value half an indicator's candidate facts lie below."""
    return (
        select(o.c.value)
        .where(o.c.indicator_id == slot("indicator_id"), *_candidates(o, year, within))
        .order_by(o.c.value)
        .limit(1)
        .offset(slot("offset"))
    )


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
    found_rows = _ranged_rows(connection, flags, tier, values, place, sorted(descending))
    if found_rows is None:
        return None
    rows, spreads = found_rows
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
        known = {i: spreads[i] for i in mixed if i in spreads}
        unknown = sorted(i for i in mixed if i not in spreads)
        if unknown:
            known.update(_read_spread(connection, flags, values, unknown))
        for indicator_id, parts in known.items():
            group = _comparability(connection, flags, values, indicator_id, parts, descending)
            found[indicator_id] = CountedStanding(
                found[indicator_id].standing, found[indicator_id].size, group
            )
    return found


def _counted_rows(
    connection: Connection, flags: Flags, tier: str, values: dict[str, Any], ids: list[int]
) -> list[dict[str, Any]]:
    """The counts of some indicators, each peer's fact picked (`_counted`)."""
    if not ids:
        return []
    return fetch_all(connection, ("standings", *flags, tier), partial(_counted, flags, tier),
                     {**values, "ids": id_set_value(connection, ids)})  # fmt: skip


@dataclass(frozen=True)
class Spread:
    """Candidate facts of one period and one level of place, counted, with their highest
    and lowest value."""

    period: Period
    level: str
    facts: int
    highest: float
    lowest: float


@dataclass(frozen=True)
class Candidates:
    """An indicator's candidate facts, whatever the place: counted by period and level,
    unless (in a year) a place has several, whose pick `_counted` makes; and the value half
    of them lie below (None without any), which says on which side of a place's value
    fewer of them lie."""

    several: bool
    spread: tuple[Spread, ...]
    middle: float | None = None


def _uniform(row: Mapping[str, Any]) -> bool:
    """Whether an indicator's candidates share one period and one level (`_spread_of_all`
    not split): each end of the period is the same, or unknown, for them all."""
    return row["min_level"] == row["max_level"] and all(
        row[count] == 0 or (row[count] == row["facts"] and row[f"min_{key}"] == row[f"max_{key}"])
        for count, key in (("starts", "period_start"), ("ends", "period_end"))
    )


def _spread_of(row: Mapping[str, Any], facts: str = "facts") -> Spread:
    return Spread(_period(row), row["level"], row[facts], float(row["highest"]),
                  float(row["lowest"]))  # fmt: skip


def _spreads(
    connection: Connection, year: int | None, within_id: int | None, ids: list[int]
) -> dict[int, Candidates]:
    """Each indicator's candidate facts counted by period and level: a function of the
    data alone, so read once per dataset version (app.query.memo)."""

    def counted(split: bool, values: dict[str, Any]) -> list[dict[str, Any]]:
        dated, within = year is not None, within_id is not None
        shape = ("standings-candidates", dated, within, split)
        return fetch_all(connection, shape, partial(_spread_of_all, dated, within, split),
                         values)  # fmt: skip

    def read(missing: list[int]) -> dict[int, Candidates]:
        values: dict[str, Any] = {"ids": id_set_value(connection, missing)}
        if year is not None:
            values["year"] = year
        if within_id is not None:
            values["within_id"] = within_id
        spread: dict[int, list[Spread]] = {i: [] for i in missing}
        several: set[int] = set()
        mixed: list[int] = []
        for row in counted(False, values):
            if row.get("places", row["facts"]) != row["facts"]:
                several.add(row["indicator_id"])
                continue
            if _uniform(row):
                row.update(period_start=row["min_period_start"],
                           period_end=row["min_period_end"], level=row["min_level"])  # fmt: skip
                spread[row["indicator_id"]].append(_spread_of(row))
            else:
                mixed.append(row["indicator_id"])
        if mixed:  # counted again by period and level
            for row in counted(True, {**values, "ids": id_set_value(connection, mixed)}):
                spread[row["indicator_id"]].append(_spread_of(row))
        answer = {}
        for i in missing:
            facts = sum(part.facts for part in spread[i])
            middle = None
            if facts:
                shape = ("standings-middle", year is not None, within_id is not None)
                found = fetch_all(connection, shape,
                                  partial(_middle, year is not None, within_id is not None),
                                  {**values, "indicator_id": i, "offset": facts // 2})  # fmt: skip
                middle = float(found[0]["value"]) if found else None
            answer[i] = Candidates(i in several, tuple(spread[i]), middle)
        return answer

    return ANSWERS.get_many(connection, ids, read, ("standings-candidates", year, within_id))


def _ranged_rows(
    connection: Connection,
    flags: Flags,
    tier: str,
    values: dict[str, Any],
    place: Mapping[str, Any],
    ids: list[int],
) -> tuple[list[dict[str, Any]], dict[int, list[Spread]]] | None:
    """The counts of each indicator, from its candidate facts counted by period and level
    (`_spreads`) and the place's fact's ranges of them; and each one's peers of the group
    counted by period and level. None past MAX_PEERS."""
    year, within, level, period = flags
    wanted = values.get("level")
    candidates = _spreads(connection, values.get("year"), values.get("within_id"), ids)
    groups = {i: [s for s in candidates[i].spread if not level or s.level == wanted]
              for i in ids if not candidates[i].several}  # fmt: skip
    if any(sum(s.facts for s in spread) > MAX_PEERS for spread in groups.values()):
        return None
    rows = _counted_rows(connection, flags, tier, values,
                         [i for i in ids if candidates[i].several])  # fmt: skip
    itself = (not level or place["level"] == wanted) and (
        not within or bool(fetch_all(connection, ("standings-inside",), _inside, values))
    )
    if not itself or not groups:  # outside the group: only the caps are counted
        return rows, {}
    # Where every candidate is of the group's level, no candidate's place is read.
    pure = sorted(i for i in groups if len(groups[i]) == len(candidates[i].spread))
    checked = sorted(i for i in groups if len(groups[i]) != len(candidates[i].spread))
    # Counted on the shorter side of the place's value: above it where it is above the
    # middle of the candidates, below it otherwise (the rest follow from the group's size).
    home = fetch_all(connection, ("standings-home", year), partial(_home, year), values)
    above = {
        row["indicator_id"] for row in home
        if row["indicator_id"] in groups
        and (candidates[row["indicator_id"]].middle or 0.0) <= row["value"]
    }  # fmt: skip
    counted: list[dict[str, Any]] = []
    for each, some in ((False, pure), (True, checked)):
        if some:
            counted += fetch_all(connection, ("standings-ranged", *flags, each),
                                 partial(_ranged, flags, each),
                                 {**values, "ids": id_set_value(connection, some),
                                  "above": id_set_value(connection, sorted(above))})  # fmt: skip
    levels = _levels_of(tier)
    spreads: dict[int, list[Spread]] = {}
    for row in counted:
        mine = _period(row)
        spread = groups[row["indicator_id"]]
        if period:
            spread = [s for s in spread if s.period == mine]
        every = sum(s.facts for s in groups[row["indicator_id"]])
        size = sum(s.facts for s in spread)
        beyond = row.pop("beyond")
        higher = beyond if row["indicator_id"] in above else size - beyond - row["equal"]
        row.update(every=every, size=size, higher=higher, itself=1)
        if not period:
            row["same_period"] = sum(s.facts for s in spread if s.period == mine)
        if not level:
            row["same_level"] = sum(s.facts for s in spread if s.level in levels)
        spreads[row["indicator_id"]] = spread
        rows.append(row)
    return rows, spreads


def _read_spread(
    connection: Connection, flags: Flags, values: dict[str, Any], ids: list[int]
) -> dict[int, list[Spread]]:
    """The ranked peers of some indicators counted by period and level."""
    rows = fetch_all(connection, ("standings-spread", *flags), lambda: _spread(flags),
                     {**values, "ids": id_set_value(connection, ids)})  # fmt: skip
    spread: dict[int, list[Spread]] = {i: [] for i in ids}
    for row in rows:
        spread[row["indicator_id"]].append(_spread_of(row, "peers"))
    return spread


Part = tuple[Period, str, int, float]  # a period, a level, its peers, their best value


def _comparability(
    connection: Connection,
    flags: Flags,
    values: dict[str, Any],
    indicator_id: int,
    spread: list[Spread],
    descending: Mapping[int, bool],
) -> Comparability:
    """The comparability of an indicator whose peers mix periods or levels, from their
    counts by period and level."""
    high = descending[indicator_id]
    parts: list[Part] = [
        (s.period, s.level, s.facts, s.highest if high else s.lowest) for s in spread
    ]
    sign = -1.0 if high else 1.0

    def first(value: float) -> list[tuple[Period, str, str]]:
        found = fetch_all(connection, ("standings-first", *flags), lambda: _first(flags),
                          {**values, "indicator_id": indicator_id, "value": value})  # fmt: skip
        return [(_period(r), r["level"], r["slug"]) for r in found]

    periods = ordered_counts(parts, lambda period, _: period, sign, first)
    levels = ordered_counts(parts, lambda _, level: _tier_of(level), sign, first)
    return grouped(periods, levels)


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

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
peers are counted in one pass over them (`counted_statement`), each one's fact picked.

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
    Connection,
)

from ..models.vocabulary import PlaceLevel
from .memo import ANSWERS
from .rankings import (
    LEVEL_TIERS,
    MAX_PEERS,
    Comparability,
    Peer,
    Peers,
    Standing,
    alone,
    grouped,
    percentile,
    read_date,
)
from .standing_statements import (
    Flags,
    area_places,
    counted_statement,
    first_statement,
    home_statement,
    levels_of,
    middle_statement,
    ranged_statement,
    spread_of_all_statement,
    spread_statement,
)
from .statements import fetch_all
from .terms import id_set_value

Period = tuple[date | None, date | None]
K = TypeVar("K")


@dataclass(frozen=True)
class CountedStanding:
    """A place's standing on one indicator as counted in SQL, with its peer group; the API's
    `PlaceStanding` (app.api.standings) is the row a client reads."""

    standing: Standing
    size: int  # the peers ranked, the place included
    group: Comparability


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
    """The counts of some indicators, each peer's fact picked (`counted_statement`)."""
    if not ids:
        return []
    build = partial(counted_statement, flags, tier)
    values = {**values, "ids": id_set_value(connection, ids)}
    return fetch_all(connection, ("standings", *flags, tier), build, values)


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
    unless (in a year) a place has several, whose pick `counted_statement` makes; and the value half
    of them lie below (None without any), which says on which side of a place's value
    fewer of them lie."""

    several: bool
    spread: tuple[Spread, ...]
    middle: float | None = None


def _uniform(row: Mapping[str, Any]) -> bool:
    """Whether an indicator's candidates share one period and one level (`spread_of_all_statement`
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
        return fetch_all(connection, shape, partial(spread_of_all_statement, dated, within, split),
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
                year_and_area = (year is not None, within_id is not None)
                found = fetch_all(connection, ("standings-middle", *year_and_area),
                                  partial(middle_statement, *year_and_area),
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
        not within or bool(fetch_all(connection, ("standings-inside",), area_places, values))
    )
    if not itself or not groups:  # outside the group: only the caps are counted
        return rows, {}
    # Where every candidate is of the group's level, no candidate's place is read.
    pure = sorted(i for i in groups if len(groups[i]) == len(candidates[i].spread))
    checked = sorted(i for i in groups if len(groups[i]) != len(candidates[i].spread))
    # Counted on the shorter side of the place's value: above it where it is above the
    # middle of the candidates, below it otherwise (the rest follow from the group's size).
    home = fetch_all(connection, ("standings-home", year), partial(home_statement, year), values)
    above = {
        row["indicator_id"] for row in home
        if row["indicator_id"] in groups
        and (candidates[row["indicator_id"]].middle or 0.0) <= row["value"]
    }  # fmt: skip
    counted: list[dict[str, Any]] = []
    for each, some in ((False, pure), (True, checked)):
        if some:
            counted += fetch_all(connection, ("standings-ranged", *flags, each),
                                 partial(ranged_statement, flags, each),
                                 {**values, "ids": id_set_value(connection, some),
                                  "above": id_set_value(connection, sorted(above))})  # fmt: skip
    levels = levels_of(tier)
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
    rows = fetch_all(connection, ("standings-spread", *flags), lambda: spread_statement(flags),
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
        found = fetch_all(connection, ("standings-first", *flags), lambda: first_statement(flags),
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

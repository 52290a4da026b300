"""Rankings: where each place stands among its peers on one indicator in one period.

The peer group is the places the request names (every place, those inside a province or
any place, those of one level, or those sharing a named place's province or level) that
have a value of the indicator for the period. Each peer counts once, with the value the
rule of `app.facts.latest` picks among its facts for the period (conflicting values: the
stated over the derived, then a table's cell over a document, then the newer source).

Ties use competition ranking ("1224"): equal values share the best rank and the next rank
skips; tied places are listed by slug. The percentile is the share of the other peers
ranked below: 100 for the top, 0 for the bottom, null in a group of one.

A rank compares like with like only when every peer's value covers the same period and
every peer is of the same administrative level (`LEVEL_TIERS`: a municipality ranks with
provinces, a county-level city with counties). `comparability` says whether they do: the
group's period and level are the most common among the peers (a tie goes to the better
ranked), and each peer that differs is flagged. A group of one compares nothing and says so.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, func, select

from ..facts.latest import recency_order
from ..models import tables as t
from ..models.vocabulary import PlaceLevel
from .statements import fetch_all, slot

o = t.observation
MAX_PEERS = 100_000
TIES = "competition ranking (1224): equal values share the best rank and the next rank skips"
PERCENTILE = "100 * (peers ranked below) / (peers - 1); null when the place has no peer"
PICK = (
    "one value per place: facts whose period ends in `year` (without `year`, every fact"
    " including the undated), the most recent by period end, then stated over derived, then"
    " a table's cell over a document, then the newer source"
)


LEVEL_TIERS = {
    PlaceLevel.country: "national",
    PlaceLevel.province: "provincial",
    PlaceLevel.municipality: "provincial",
    PlaceLevel.sar: "provincial",
    PlaceLevel.prefecture_city: "prefectural",
    PlaceLevel.prefecture: "prefectural",
    PlaceLevel.county_city: "county",
    PlaceLevel.county: "county",
    PlaceLevel.district: "county",
}


@dataclass(frozen=True)
class Peers:
    """The peer group: places inside `within_id` (any depth, itself included) and/or of
    `level`; neither means every place."""

    within_id: int | None = None
    level: str | None = None

    def bound(self, year: int | None) -> dict[str, Any]:
        """The values the group's statements bind: the year, `within_id`, the level."""
        values: dict[str, Any] = {} if year is None else {"year": year}
        if self.within_id is not None:
            values["within_id"] = self.within_id
        if self.level is not None:
            values["level"] = self.level
        return values


@dataclass(frozen=True)
class Peer:
    observation_id: int
    place_id: int
    slug: str
    value: float
    period: tuple[date | None, date | None] = (None, None)  # start and end; None: unknown
    level: str = ""

    @property
    def tier(self) -> str:
        return LEVEL_TIERS.get(PlaceLevel(self.level), self.level) if self.level else ""


@dataclass(frozen=True)
class Standing:
    peer: Peer
    rank: int
    percentile: float | None


def inside(place_id: ColumnElement[int]) -> ColumnElement[bool]:
    """The place is the peer group's `within_id` or lies in it, at any depth."""
    closure = t.place_ancestor
    return place_id.in_(
        select(closure.c.place_id).where(closure.c.ancestor_id == slot("within_id"))
    )


def _picked(year: bool, within: bool, level: bool) -> Select[Any]:
    """Each peer's fact: without a year the one marked latest; in a year, the most recent
    of that year by the same rule."""
    conditions = [o.c.indicator_id == slot("indicator_id"), o.c.subject_kind == "place"]
    if within:
        conditions.append(inside(o.c.place_id))
    if level:
        conditions.append(
            o.c.place_id.in_(select(t.place.c.id).where(t.place.c.level == slot("level")))
        )
    if year:
        pick = func.row_number().over(partition_by=o.c.place_id, order_by=recency_order())
        ranked = (
            select(
                o.c.id,
                o.c.place_id,
                o.c.value,
                o.c.period_start,
                o.c.period_end,
                pick.label("pick"),
            )
            .select_from(o.join(t.source, t.source.c.id == o.c.source_id))
            .where(*conditions, o.c.year == slot("year"))
            .subquery()
        )
        chosen = select(ranked.c.id, ranked.c.place_id, ranked.c.value, ranked.c.period_start,
                        ranked.c.period_end).where(ranked.c.pick == 1)  # fmt: skip
    else:
        chosen = select(o.c.id, o.c.place_id, o.c.value, o.c.period_start,
                        o.c.period_end).where(*conditions, o.c.latest)  # fmt: skip
    picked = chosen.subquery()
    return (
        select(
            picked.c.id,
            picked.c.place_id,
            picked.c.value,
            picked.c.period_start,
            picked.c.period_end,
            t.place.c.slug,
            t.place.c.level,
        )
        .join(t.place, t.place.c.id == picked.c.place_id)
        .limit(slot("peers"))
    )


def peer_values(
    connection: Connection, indicator_id: int, year: int | None, peers: Peers
) -> list[Peer] | None:
    """Each peer with the fact picked for it; None past MAX_PEERS."""
    values = {"indicator_id": indicator_id, "peers": MAX_PEERS + 1, **peers.bound(year)}
    flags = (year is not None, peers.within_id is not None, peers.level is not None)
    rows = fetch_all(connection, ("ranking", *flags), lambda: _picked(*flags), values)
    if len(rows) > MAX_PEERS:
        return None
    return [
        Peer(row["id"], row["place_id"], row["slug"], float(row["value"]),
             (read_date(row["period_start"]), read_date(row["period_end"])), row["level"])
        for row in rows
    ]  # fmt: skip


def period_words(period: tuple[date | None, date | None]) -> str:
    start, end = period
    return "unknown" if end is None else f"{start or '?'} to {end}"


def read_date(value: Any) -> date | None:
    """A date column as a date (SQLite may hand back its text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def same_period(peers: list[Peer], focus_place_id: int | None) -> list[Peer]:
    """The peers whose value covers the reference period: the focus place's when it has
    one, else the latest (by end, the longest first) among dated peers, else all."""
    mine = [p for p in peers if p.place_id == focus_place_id]
    dated = [p for p in peers if p.period[1] is not None]
    if mine:
        reference = mine[0].period
    elif dated:
        reference = max(
            dated, key=lambda p: (p.period[1], -(p.period[0] or date.max).toordinal())
        ).period
    else:
        return peers
    return [p for p in peers if p.period == reference]


@dataclass(frozen=True)
class Comparability:
    comparable: bool
    reason: str
    period: tuple[date | None, date | None] | None  # the group's, when it has peers
    tier: str | None  # the administrative level of LEVEL_TIERS
    alone: bool = False  # a group of one

    def differs(self, peer: Peer) -> list[str]:
        """What sets `peer` apart from the group, in words (empty: nothing)."""
        if self.alone:
            return [self.reason]
        words = []
        if self.period is not None and peer.period != self.period:
            mine, most = period_words(peer.period), period_words(self.period)
            words.append(f"its period is {mine}, the group's is {most}")
        if self.tier is not None and peer.tier != self.tier:
            words.append(f"it is a {peer.level} ({peer.tier} level), the group's places are"
                         f" of {self.tier} level")  # fmt: skip
        return words


def comparability(standings: Sequence[Standing]) -> Comparability:
    """Whether the ranked peers share one period and one level, and why not."""
    if not standings:
        return Comparability(True, "no peer has a value", None, None)
    if len(standings) == 1:
        return alone(standings[0].peer)
    periods = Counter(s.peer.period for s in standings)
    levels = Counter(s.peer.tier for s in standings)
    return grouped(periods, levels)


def alone(only: Peer) -> Comparability:
    """A group of one: `only` is ranked against no other place."""
    words = f"a group of one: {only.slug} is ranked against no other place, so its rank"
    return Comparability(False, words + " compares nothing", only.period, only.tier, True)


def grouped(
    periods: Counter[tuple[date | None, date | None]], levels: Counter[str]
) -> Comparability:
    """The comparability of two or more peers, from how many cover each period and how many
    are of each level (`LEVEL_TIERS`), each counter in the order of its keys' best ranked
    peers: the group's period and level are the most common, a tie going to the first."""
    period = max(periods, key=lambda p: periods[p])
    level = max(levels, key=lambda v: levels[v])
    reasons = []
    if len(periods) > 1:
        reasons.append(f"{len(periods)} different periods")
    if len(levels) > 1:
        reasons.append(f"{len(levels)} levels ({', '.join(sorted(levels))})")
    if reasons:
        mixed = "the peers' values mix " + " and ".join(reasons)
        return Comparability(False, mixed + "; entries unlike most are flagged", period, level)
    shared = "every peer's value covers the same period and every peer is of the same level"
    return Comparability(True, shared, period, level)


def percentile(size: int, below: int) -> float | None:
    """The share of the other peers ranked below, in percent; None in a group of one."""
    return None if size == 1 else round(100 * below / (size - 1), 1)


def rank(peers: Sequence[Peer], *, descending: bool = True) -> list[Standing]:
    """Competition ranks and percentiles, best first."""
    ordered = sorted(peers, key=lambda p: (-p.value if descending else p.value, p.slug))
    size = len(ordered)
    ties = Counter(p.value for p in ordered)
    standings: list[Standing] = []
    for position, peer in enumerate(ordered):
        tied = bool(standings) and standings[-1].peer.value == peer.value
        place_rank = standings[-1].rank if tied else position + 1
        below = size - place_rank - ties[peer.value] + 1
        standings.append(Standing(peer, place_rank, percentile(size, below)))
    return standings

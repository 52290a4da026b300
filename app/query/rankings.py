"""Rankings: where each place stands among its peers on one indicator in one period.

The peer group is the places the request names (every place, those inside a province or
any place, those of one level, or those sharing a named place's province or level) that
have a value of the indicator for the period. Each peer counts once, with the value the
rule of `app.facts.latest` picks among its facts for the period (conflicting values: the
stated over the derived, then a table's cell over a document, then the newer source).

Ties use competition ranking ("1224"): equal values share the best rank and the next rank
skips; tied places are listed by slug. The percentile is the share of the other peers
ranked below: 100 for the top, 0 for the bottom, null in a group of one.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, func, select

from app.facts.latest import recency_order
from app.models import tables as t
from app.query.statements import fetch_all, slot

o = t.observation
MAX_PEERS = 100_000
TIES = "competition ranking (1224): equal values share the best rank and the next rank skips"
PERCENTILE = "100 * (peers ranked below) / (peers - 1); null when the place has no peer"
PICK = (
    "one value per place: facts whose period ends in `year` (without `year`, every fact"
    " including the undated), the most recent by period end, then stated over derived, then"
    " a table's cell over a document, then the newer source"
)


@dataclass(frozen=True)
class Peers:
    """The peer group: places inside `within_id` (any depth, itself included) and/or of
    `level`; neither means every place."""

    within_id: int | None = None
    level: str | None = None


@dataclass(frozen=True)
class Peer:
    observation_id: int
    place_id: int
    slug: str
    value: float


@dataclass(frozen=True)
class Standing:
    peer: Peer
    rank: int
    percentile: float | None


def _picked(year: bool, within: bool, level: bool) -> Select[Any]:
    """Each peer's fact: without a year the one marked latest; in a year, the most recent
    of that year by the same rule."""
    conditions = [o.c.indicator_id == slot("indicator_id"), o.c.subject_kind == "place"]
    if within:
        closure = t.place_ancestor
        conditions.append(
            o.c.place_id.in_(
                select(closure.c.place_id).where(closure.c.ancestor_id == slot("within_id"))
            )
        )
    if level:
        conditions.append(
            o.c.place_id.in_(select(t.place.c.id).where(t.place.c.level == slot("level")))
        )
    if year:
        pick = func.row_number().over(partition_by=o.c.place_id, order_by=recency_order())
        ranked = (
            select(o.c.id, o.c.place_id, o.c.value, pick.label("pick"))
            .select_from(o.join(t.source, t.source.c.id == o.c.source_id))
            .where(*conditions, o.c.year == slot("year"))
            .subquery()
        )
        chosen = select(ranked.c.id, ranked.c.place_id, ranked.c.value).where(ranked.c.pick == 1)
    else:
        chosen = select(o.c.id, o.c.place_id, o.c.value).where(*conditions, o.c.latest)
    picked = chosen.subquery()
    return (
        select(picked.c.id, picked.c.place_id, picked.c.value, t.place.c.slug)
        .join(t.place, t.place.c.id == picked.c.place_id)
        .limit(slot("peers"))
    )


def peer_values(
    connection: Connection, indicator_id: int, year: int | None, peers: Peers
) -> list[Peer] | None:
    """Each peer with the fact picked for it; None past MAX_PEERS."""
    values: dict[str, Any] = {"indicator_id": indicator_id, "peers": MAX_PEERS + 1}
    if year is not None:
        values["year"] = year
    if peers.within_id is not None:
        values["within_id"] = peers.within_id
    if peers.level is not None:
        values["level"] = peers.level
    flags = (year is not None, peers.within_id is not None, peers.level is not None)
    rows = fetch_all(connection, ("ranking", *flags), lambda: _picked(*flags), values)
    if len(rows) > MAX_PEERS:
        return None
    return [Peer(row["id"], row["place_id"], row["slug"], float(row["value"])) for row in rows]


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
        percentile = None if size == 1 else round(100 * below / (size - 1), 1)
        standings.append(Standing(peer, place_rank, percentile))
    return standings

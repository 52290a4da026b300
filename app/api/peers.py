"""What the ranking views read from a request and whom they rank a place among: the
indicator, year and peers parameters (checked here, so each refusal names its parameter,
and documented here), and the peer group they name. `/rankings`, a place's standings and
a metric's comparison share them."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select
from starlette.datastructures import QueryParams

from ..errors import ProblemError, parameter_problem, shown
from ..models import tables as t
from ..models.vocabulary import PROVINCE_LEVELS, PlaceLevel
from ..query.lookups import names
from ..query.names import no_such
from ..query.parsing import check_names
from ..query.rankings import MAX_PEERS, Peer, Peers, peer_values, same_period
from ..query.statements import fetch_one, slot
from .keys import SLUG_PATTERN_RE

SLUG = r"[a-z0-9][a-z0-9_-]{0,63}"
AREA = rf"(province|within):{SLUG}"
LEVEL = rf"level:({'|'.join(PlaceLevel)})"


def _peers_pattern(area: str, level: str) -> str:
    """Nationwide, or one area and/or one level, in either order; then `same_period`, or
    `same_period` alone."""
    group = rf"(nationwide|{area}|{level}|{area},{level}|{level},{area})"
    return rf"^({group}(,same_period)?|same_period)$"


PEERS_PATTERN = _peers_pattern(AREA, LEVEL)
# A place's own standings may also name its province or level.
PLACE_PEERS_PATTERN = _peers_pattern(f"({AREA}|same_province)", f"({LEVEL}|same_level)")
YEAR = {"type": "integer", "minimum": 1900, "maximum": 2100}


SLUG_SCHEMA = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]*$", "maxLength": 64}


def query_doc(
    name: str, description: str, schema: dict[str, Any], example: Any, required: bool = False
) -> dict[str, Any]:
    """A query parameter's OpenAPI entry (the routers read their parameters themselves,
    so that each refusal names the parameter)."""
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema, "example": example}  # fmt: skip


INDICATOR = query_doc("indicator", "The indicator's code.", SLUG_SCHEMA,
                      "high_tech_enterprises", required=True)  # fmt: skip
PEERS_DESCRIPTION = (
    "The peer group: `nationwide` (the default), or an area (`province:<slug>`, places in"
    " that province; `within:<slug>`, in any place) and/or a level (`level:<level>`),"
    " joined by a comma; `,same_period` after it (or `same_period` alone) keeps only the"
    " peers whose value covers the same period as `place`'s (without `place`, the latest"
    " dated period among the peers)."
)
YEAR_DOC = query_doc("year", "The year the period ends in; without it, each place's latest"
                     " value (undated facts included).", YEAR, 2023)  # fmt: skip


# Reading the parameters ------------------------------------------------------------------


def allowed(params: QueryParams, names: tuple[str, ...]) -> None:
    """Refuse a parameter these endpoints do not take (400) or one given twice (422)."""
    check_names(params, names, "given more than once")


def read_slug(params: QueryParams, name: str, length: int = 64) -> str | None:
    value = params.get(name)
    if value is not None and (len(value) > length or not SLUG_PATTERN_RE.match(value)):
        lowered = value.strip().lower()
        hint = f"; did you mean {lowered}?" if SLUG_PATTERN_RE.match(lowered) else ""
        raise parameter_problem(
            name, f"{shown(value)} is not a key (lower-case letters, digits, - and _){hint}"
        )
    return value


def read_year(params: QueryParams, name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{4}", raw) or not 1900 <= int(raw) <= 2100:
        raise parameter_problem(name, f"expected a year from 1900 to 2100, got {shown(raw)}")
    return int(raw)


def read_int(params: QueryParams, name: str, maximum: int) -> int:
    raw = params.get(name, "0")
    if not re.fullmatch(r"[0-9]{1,7}", raw) or int(raw) > maximum:
        raise parameter_problem(name, f"expected an integer from 0 to {maximum}, got {shown(raw)}")
    return int(raw)


def peer_terms(raw: str | None, pattern: str = PEERS_PATTERN) -> list[tuple[str, str | None]]:
    """The peer group's terms, (kind, value), nationwide dropped."""
    if raw is None:
        return []
    if len(raw) > 140 or not re.fullmatch(pattern.strip("^$"), raw):
        raise parameter_problem(
            "peers",
            f"{shown(raw)} is not a peer group: nationwide, or an area (province:<slug>,"
            " within:<slug>) and/or a level (level:<level>) joined by a comma, then"
            " optionally same_period",
        )
    terms = [term.partition(":") for term in raw.split(",")]
    return [(kind, value or None) for kind, _, value in terms if kind != "nationwide"]


def find_indicator(connection: Connection, code: str) -> dict[str, Any]:
    row = fetch_one(
        connection, "ranking-indicator",
        lambda: select(t.indicator.c.id, t.indicator.c.code, t.indicator.c.name,
                       t.indicator.c.unit).where(t.indicator.c.code == slot("code")),
        {"code": code},
    )  # fmt: skip
    if row is None:
        raise no_such(connection, names(t.indicator, "code"), "indicator", code)
    return dict(row)


def find_place(
    connection: Connection, slug: str, parameter: str, location: str = "query"
) -> dict[str, Any]:
    row = fetch_one(
        connection, "ranking-place",
        lambda: select(t.place.c.id, t.place.c.slug, t.place.c.level).where(
            t.place.c.slug == slot("slug")),
        {"slug": slug},
    )  # fmt: skip
    if row is None:  # a path's key names a resource, a query's value is the request's
        status = 404 if location == "path" else 422
        raise no_such(connection, names(t.place), parameter, slug, location=location,
                      status=status)  # fmt: skip
    return dict(row)


def _province_of(connection: Connection, place_id: int) -> Mapping[str, Any] | None:
    ancestor = t.place.alias("ancestor")
    closure = t.place_ancestor
    return fetch_one(
        connection, "ranking-province",
        lambda: select(ancestor.c.id, ancestor.c.slug)
        .select_from(closure.join(ancestor, ancestor.c.id == closure.c.ancestor_id))
        .where(closure.c.place_id == slot("place_id"),
               ancestor.c.level.in_([level.value for level in PROVINCE_LEVELS])),
        {"place_id": place_id},
    )  # fmt: skip


@dataclass(frozen=True)
class PeerGroup:
    peers: Peers
    words: str  # "places in hubei and at level county_city"
    terms: str  # the group as /rankings names it: same_level becomes level:<its level>
    same_period: bool = False  # only the peers whose value covers the reference period


def peers(
    connection: Connection, terms: list[tuple[str, str | None]], focus: dict[str, Any] | None
) -> PeerGroup:
    within_id, level, words, explicit = None, None, [], []
    period = any(kind == "same_period" for kind, _ in terms)
    for kind, value in terms:
        if kind == "same_period":
            continue
        if kind in ("province", "within"):
            assert value is not None
            area = find_place(connection, value, "peers")
            if kind == "province" and area["level"] not in PROVINCE_LEVELS:
                raise parameter_problem("peers", f"{value!r} is a {area['level']}, not a province")
            within_id = area["id"]
            words.append(f"in {value}")
            explicit.append(f"{kind}:{value}")
        elif kind == "same_province":
            assert focus is not None
            province = _province_of(connection, focus["id"])
            if province is None:
                raise parameter_problem("peers", f"{focus['slug']!r} lies in no province")
            within_id = province["id"]
            words.append(f"in {focus['slug']}'s province")
            explicit.append(f"province:{province['slug']}")
        elif kind == "level":
            level = value
            words.append(f"at level {value}")
            explicit.append(f"level:{value}")
        else:
            assert focus is not None
            level = focus["level"]
            words.append(f"at {focus['slug']}'s level ({level})")
            explicit.append(f"level:{level}")
    if period:
        whose = f"{focus['slug']}'s" if focus is not None else "the latest dated"
        words.append(f"with a value for {whose} period")
        explicit.append("same_period")
    return PeerGroup(
        Peers(within_id, level),
        "places " + " and ".join(words) if words else "every place",
        ",".join(explicit) or "nationwide",
        period,
    )


def peers_of(
    connection: Connection,
    indicator_id: int,
    year: int | None,
    group: PeerGroup,
    focus: Mapping[str, Any] | None,
) -> list[Peer]:
    """The group's peers with their values (only those of the reference period when the
    group asks for the same period)."""
    values = peer_values(connection, indicator_id, year, group.peers)
    if values is None:
        raise too_many_peers()
    return same_period(values, focus["id"] if focus else None) if group.same_period else values


def too_many_peers() -> ProblemError:
    return parameter_problem("peers", f"more than {MAX_PEERS} peers; narrow the group")

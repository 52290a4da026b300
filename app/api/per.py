"""`per=`: a metric's value divided by another fact of the same place, computed on request.

The denominator is the place's resident population (`per=person`, `per=10k_people`) or
another indicator of it (`per=<indicator code>`). The year rule, stated in every answer:
the denominator of the same year; for population, which is counted by the censuses, else
the census year nearest to the metric's (ties to the earlier), marked as such; for a place
with no population of its own (a province: the censuses are tabled by city), the sum of
its direct subdivisions' populations of that year when every one of them has it. With no
denominator there is no value, and `reason` says why. Nothing computed here is stored:
each answer names the keys both inputs were read from, with the denominator's provenance.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import Field
from sqlalchemy import Connection, Select, select

from ..errors import parameter_problem, shown
from ..models import tables as t
from ..query.expressions import IdSet
from ..query.statements import fetch_all, slot
from ..query.terms import id_set_value
from .shapes import PlaceRef, Provenance, Schema

observation = t.observation
POPULATION = "population_resident"
# Units a value can sensibly be divided by: amounts of people, things, work or money.
DENOMINATOR_UNITS = ("count", "person_years", "CNY")
PER_DESCRIPTION = (
    "Divide each value by a fact of the same place: `person` or `10k_people` (resident"
    " population; the same year, else the nearest census year), or an indicator code (the"
    " same year only). Each item gains `per`, computed on request, with the formula over"
    " both keys, the denominator's provenance, and `reason` when there is no value."
)
YEAR_RULE = (
    "Same year; for population, else the nearest census year (ties to the earlier); a place"
    " without its own population uses the sum of its direct subdivisions' when all have it."
)


class DenominatorFact(Schema):
    key: str
    value: float
    year: int | None
    place: PlaceRef | None
    provenance: Provenance
    url: str


class PerValue(Schema):
    """A value divided by a fact of the same place (`per=`), computed on request."""

    denominator: str = Field(examples=["10k_people"], description="What `per=` asked for.")
    value: float | None = Field(description="The quotient; null when there is no denominator.")
    unit: str = Field(examples=["CNY per 10,000 people"])
    computed: bool = Field(description="Always true: computed on request, never stored.")
    formula: str | None = Field(
        examples=["{cssty-rd-expenditure-by-activity-rd-expenditure-anhui-2020}"
                  " / ({census-city-population-resident-hefei-2020} + ...) * 10000"],
        description="Over the keys of both inputs.",
    )  # fmt: skip
    year_rule: str | None = Field(
        examples=["same_year", "nearest_census_year"],
        description="How the denominator's year was chosen (same_year, nearest_census_year;"
        " ', sum of subdivisions' when it adds the subdivisions' values).",
    )
    denominator_facts: list[DenominatorFact]
    reason: str | None = Field(description="Why there is no value, when there is none.")


class PerMeta(Schema):
    denominator: str = Field(examples=["10k_people"])
    year_rule: str = Field(description="How each denominator's year is chosen.")


@dataclass(frozen=True)
class Metrics:
    """How metrics are read and shaped (app.api.metrics), handed in by its callers."""

    select: Callable[[], Select[Any]]
    serialize: Callable[[Any], dict[str, Any]]


@dataclass(frozen=True)
class Per:
    name: str  # as asked: person, 10k_people or an indicator code
    indicator: str  # the denominator's indicator
    scale: int  # the quotient is multiplied by this (10,000 for per 10,000 people)
    unit: str  # the denominator's unit, for the answer's unit

    @property
    def population(self) -> bool:
        return self.indicator == POPULATION


def parse_per(connection: Connection, raw: str, numerator: str | None = None) -> Per:
    """Read `per=`; an indicator must exist, be countable, and not be the numerator."""
    if raw in ("person", "10k_people"):
        return Per(raw, POPULATION, 10_000 if raw == "10k_people" else 1, "count")
    rows = fetch_all(
        connection,
        "per-indicator",
        lambda: select(t.indicator.c.code, t.indicator.c.unit).where(
            t.indicator.c.code == slot("code")
        ),
        {"code": raw[:64]},
    )
    if not rows:
        raise parameter_problem(
            "per", f"{shown(raw)} is neither person, 10k_people nor an indicator code"
        )
    unit = rows[0]["unit"]
    if unit not in DENOMINATOR_UNITS:
        raise parameter_problem(
            "per",
            f"{shown(raw)} is in {unit}; divide by an indicator in {', '.join(DENOMINATOR_UNITS)}",
        )
    if raw == numerator:
        raise parameter_problem("per", "an indicator divided by itself is 1")
    return Per(raw, raw, 1, unit)


def apply_per(
    connection: Connection, metrics: list[dict[str, Any]], per: Per, read: Metrics
) -> None:
    """Add `per` to each metric (a place's, with a year) in place."""
    places = _place_ids(connection, {m["place"]["slug"] for m in metrics if m.get("place")})
    children = _children(connection, list(places.values())) if per.population else {}
    wanted = set(places.values()) | {c for kids in children.values() for c in kids}
    facts = _denominators(connection, per.indicator, sorted(wanted), read)
    for metric in metrics:
        place_id = places.get(metric["place"]["slug"]) if metric.get("place") else None
        metric["per"] = _quotient(metric, per, place_id, facts, children)


def _place_ids(connection: Connection, slugs: set[str]) -> dict[str, int]:
    if not slugs:
        return {}
    rows = fetch_all(
        connection,
        "per-places",
        lambda: select(t.place.c.id, t.place.c.slug).where(IdSet(t.place.c.slug, slot("slugs"))),
        {"slugs": id_set_value(connection, sorted(slugs))},
    )
    return {row["slug"]: row["id"] for row in rows}


def _children(connection: Connection, ids: list[int]) -> dict[int, list[int]]:
    if not ids:
        return {}
    rows = fetch_all(
        connection,
        "per-children",
        lambda: select(t.place.c.id, t.place.c.parent_id).where(
            IdSet(t.place.c.parent_id, slot("ids"))
        ),
        {"ids": id_set_value(connection, ids)},
    )
    children: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        children[row["parent_id"]].append(row["id"])
    return children


def _denominators(
    connection: Connection, indicator: str, place_ids: list[int], read: Metrics
) -> dict[int, dict[int, dict[str, Any]]]:
    """The denominator's facts by place and year (the first loaded, where two disagree)."""
    if not place_ids:
        return {}
    rows = fetch_all(
        connection,
        "per-denominators",
        lambda: (
            read.select()
            .add_columns(observation.c.place_id.label("per_place_id"))
            .where(
                t.indicator.c.code == slot("indicator"),
                observation.c.subject_kind == "place",
                observation.c.year.is_not(None),
                IdSet(observation.c.place_id, slot("ids")),
            )
            .order_by(observation.c.id)
        ),
        {"indicator": indicator, "ids": id_set_value(connection, place_ids)},
    )
    facts: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        facts[row["per_place_id"]].setdefault(row["year"], read.serialize(row))
    return facts


def _quotient(
    metric: dict[str, Any],
    per: Per,
    place_id: int | None,
    facts: dict[int, dict[int, dict[str, Any]]],
    children: dict[int, list[int]],
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "denominator": per.name,
        "value": None,
        "unit": _unit(metric["unit"], per),
        "computed": True,
        "formula": None,
        "year_rule": None,
        "denominator_facts": [],
        "reason": None,
    }
    year = metric["period"]["year"]
    if metric["subject"]["kind"] != "place" or place_id is None:
        return {**answer, "reason": "only a place's facts have a denominator"}
    if year is None:
        return {**answer, "reason": "the period is unknown, so no denominator's year matches"}
    inputs, rule = _find(per, place_id, year, facts, children)
    if not inputs:
        return {**answer, "reason": _missing(per, metric, year)}
    total = sum(float(fact["value"]) for fact in inputs)
    if total == 0:
        return {**answer, "reason": "the denominator is zero"}
    keys = " + ".join(f"{{{fact['key']}}}" for fact in inputs)
    scale = f" * {per.scale}" if per.scale != 1 else ""
    formula = (
        f"{{{metric['key']}}} / ({keys}){scale}"
        if len(inputs) > 1
        else (f"{{{metric['key']}}} / {keys}{scale}")
    )
    return {
        **answer,
        "value": float(metric["value"]) / total * per.scale,
        "formula": formula,
        "year_rule": rule,
        "denominator_facts": [_cited(fact) for fact in inputs],
    }


def _find(
    per: Per,
    place_id: int,
    year: int,
    facts: dict[int, dict[int, dict[str, Any]]],
    children: dict[int, list[int]],
) -> tuple[list[dict[str, Any]], str | None]:
    own = facts.get(place_id, {})
    if year in own:
        return [own[year]], "same_year"
    if not per.population:
        return [], None
    if own:
        nearest = min(own, key=lambda y: (abs(y - year), y))
        return [own[nearest]], "nearest_census_year"
    kids = children.get(place_id, [])
    years = set.intersection(*(set(facts.get(k, {})) for k in kids)) if kids else set()
    if not years:
        return [], None
    chosen = year if year in years else min(years, key=lambda y: (abs(y - year), y))
    rule = "same_year" if chosen == year else "nearest_census_year"
    return [facts[k][chosen] for k in kids], f"{rule}, sum of subdivisions"


def _missing(per: Per, metric: dict[str, Any], year: int) -> str:
    place = metric["place"]["slug"]
    if per.population:
        return f"no population of {place} or of all its subdivisions in any census year"
    return f"no {per.indicator} of {place} in {year}"


def _unit(unit: str, per: Per) -> str:
    if per.name == "person":
        return f"{unit} per person"
    if per.name == "10k_people":
        return f"{unit} per 10,000 people"
    return f"{unit} per {per.unit} of {per.indicator}"


def _cited(fact: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": fact["key"],
        "value": fact["value"],
        "year": fact["period"]["year"],
        "place": fact["place"],
        "provenance": fact["provenance"],
        "url": fact["url"],
    }


def augment(read: Metrics) -> Callable[[Connection, list[dict[str, Any]], str], None]:
    """`per=` on a list of metrics: each item divided by its own place's denominator."""

    def apply(connection: Connection, metrics: list[dict[str, Any]], raw: str) -> None:
        if len(raw) > 64:
            raise parameter_problem("per", "too long for an indicator code")
        codes = {m["indicator"]["code"] for m in metrics}
        per = parse_per(connection, raw, codes.pop() if len(codes) == 1 else None)
        apply_per(connection, [m for m in metrics if m["indicator"]["code"] != raw], per, read)
        for metric in metrics:
            metric.setdefault("per", None)

    return apply


PER_PARAMETER: dict[str, Any] = {
    "name": "per",
    "in": "query",
    "required": False,
    "description": PER_DESCRIPTION,
    "schema": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_]{0,63}$"},
    "example": "10k_people",
}

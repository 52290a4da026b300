"""Checks across the seed files: references resolve, stated values match recorded values,
derived values match their formulas, table cells state their facts, and (with the raw
documents at hand, app.seeding.spans) every locator covers text that states the fact."""

import math
import re
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from ..facts.formulas import evaluate, formula_inputs
from ..facts.precision import (
    BOUNDS,
    Precision,
    allowed_qualifier,
    derived_precision,
    is_product,
    result_precision,
    round_to,
    stated_precision,
)
from ..models.vocabulary import Qualifier, SourceKind
from .cells import TABLES_FILE, Known, table_problems
from .divisions import DIVISIONS_SOURCE, divisions
from .errors import SeedError, SeedProblem
from .kinds import KINDS, Kind, ObservationRecord, OrganizationRecord
from .periods import parse_period
from .quantities import COMPATIBLE_UNITS, parse_quantity
from .reader import INDICATORS_FILE, PLACES_FILE, SOURCES_FILE, Dataset
from .records import Evidenced, SourceRecord
from .spans import Verification, document_problems

# Words that must appear in a quote for its value to carry the qualifier.
QUALIFIER_CUES: dict[Qualifier, tuple[str, ...]] = {
    Qualifier.more_than: ("over", "more than", "exceeding", "surpassed", "above"),
    Qualifier.at_least: ("at least",),
    Qualifier.up_to: ("no more than", "up to", "at most", "not exceed"),
    Qualifier.less_than: ("less than", "under", "below"),
    Qualifier.approximate: ("about", "around", "approximately", "nearly", "some"),
}


def normalise(text: str) -> str:
    """How a span is compared with what it should state: case-folded, with the captures'
    `?`-for-space damage read as spaces and runs of white space folded."""
    return " ".join(re.sub(r"(?<=\S)\?(?=\S)", " ", text).casefold().split())


def states(quote: str, stated: str) -> bool:
    pattern = r"(?<![\w.])" + re.escape(normalise(stated)) + r"(?![\w])"
    return re.search(pattern, normalise(quote)) is not None


def check_dataset(dataset: Dataset, documents_dir: Path | None) -> Verification:
    """Raise SeedError with every problem found; return what the document check covered."""
    problems = list(_reference_problems(dataset))
    problems.extend(_value_problems(dataset))
    problems.extend(_cell_problems(dataset))
    verification, spans = document_problems(dataset, documents_dir)
    problems.extend(spans)
    if problems:
        raise SeedError(problems)
    cells = sum(len(table.facts) for table in dataset.tables)
    return replace(verification, tables=len(dataset.tables), cells=cells)


def _cell_problems(dataset: Dataset) -> Iterator[SeedProblem]:
    """Every table fact against its cell, its place, its indicator, and every other key."""
    known = Known(
        places={place.record.slug for place in dataset.all_places},
        indicators={i.code: i.unit.value for i in dataset.indicators.indicators},
        keys={
            observation.key: name
            for name, document in dataset.documents.items()
            for observation in document.observations
        },
    )
    sources = {source.id: SOURCES_FILE for source in dataset.sources.sources}
    for table in dataset.tables:
        yield from _duplicates(
            sources, TABLES_FILE, "id", table.source.id, f"table {table.source.id}"
        )
        yield from table_problems(table, known)


def _duplicates(
    file_of: dict[str, str], name: str, kind: str, value: str, record: str
) -> Iterator[SeedProblem]:
    if value in file_of:
        yield SeedProblem(name, record, kind, f"{value!r} is already defined in {file_of[value]}")
    file_of.setdefault(value, name)


def _reference_problems(dataset: Dataset) -> Iterator[SeedProblem]:
    """Every natural key defined once, and every name a record uses defined somewhere."""
    known: dict[str, dict[str, str]] = {"source": {}, "place": {}, "indicator": {}}
    for source in dataset.sources.sources:
        yield from _duplicates(
            known["source"], SOURCES_FILE, "id", source.id, f"source {source.id}"
        )
    if dataset.places.source not in known["source"]:
        yield SeedProblem(PLACES_FILE, None, "source", f"unknown source {dataset.places.source!r}")
    yield from _place_problems(dataset, known["place"])
    for indicator in dataset.indicators.indicators:
        yield from _duplicates(
            known["indicator"], INDICATORS_FILE, "code", indicator.code,
            f"indicator {indicator.code}",
        )  # fmt: skip
    for kind in KINDS:
        yield from _kind_duplicates(dataset, kind, known.setdefault(kind.name, {}))
    sources = {s.id: s for s in dataset.sources.sources}
    for name, document in dataset.documents.items():
        yield from _document_source_problems(name, document.source, sources)
        for kind in KINDS:
            for record in kind.records(document):
                yield from _unknown_references(name, kind, record, known)
        for org in document.organizations:
            yield from _place_source_problems(name, org, sources)


def _place_problems(dataset: Dataset, places: dict[str, str]) -> Iterator[SeedProblem]:
    for place in dataset.places.places:
        yield from _duplicates(places, PLACES_FILE, "slug", place.slug, f"place {place.slug}")
    yield from _code_problems(dataset)
    for reference in dataset.all_places[len(dataset.places.places) :]:
        places.setdefault(reference.record.slug, DIVISIONS_SOURCE)
    for place in dataset.places.places:
        if place.parent is not None and place.parent not in places:
            yield SeedProblem(
                PLACES_FILE, f"place {place.slug}", "parent", f"unknown place {place.parent!r}"
            )


def _kind_duplicates(dataset: Dataset, kind: Kind, seen: dict[str, str]) -> Iterator[SeedProblem]:
    field = "/".join(kind.key)
    for name, document in dataset.documents.items():
        for record in kind.records(document):
            yield from _duplicates(seen, name, field, kind.key_of(record), kind.label(record))


def _unknown_references(
    name: str, kind: Kind, record: Evidenced, known: dict[str, dict[str, str]]
) -> Iterator[SeedProblem]:
    for reference in kind.references:
        for field, target, value in reference.named(record):
            if value not in known[target]:
                yield SeedProblem(name, kind.label(record), field, f"unknown {target} {value!r}")


def _document_source_problems(
    name: str, source_id: str, sources: dict[str, SourceRecord]
) -> Iterator[SeedProblem]:
    source = sources.get(source_id)
    if source is None:
        yield SeedProblem(name, None, "source", f"unknown source {source_id!r}")
    elif source.kind != SourceKind.document:
        yield SeedProblem(name, None, "source", f"source {source.id!r} is not a document")


def _code_problems(dataset: Dataset) -> Iterator[SeedProblem]:
    """A curated place's code must be a division's, under its curated parent's division."""
    codes: dict[str, str] = {}
    for place in dataset.places.places:
        if place.code is not None:
            yield from _duplicates(codes, PLACES_FILE, "code", place.code, f"place {place.slug}")
    if len(dataset.all_places) == len(dataset.places.places):
        return  # the divisions are not among the sources: nothing to match codes against
    known = {d.code: d for d in divisions()}
    parent_code = {p.slug: p.code for p in dataset.places.places}
    for place in dataset.places.places:
        if place.code is None:
            continue
        division = known.get(place.code)
        label = f"place {place.slug}"
        if division is None:
            yield SeedProblem(PLACES_FILE, label, "code", f"{place.code} is not a division's code")
        elif place.parent and parent_code.get(place.parent) != division.parent_code:
            yield SeedProblem(
                PLACES_FILE,
                label,
                "parent",
                f"division {place.code} lies under {division.parent_code}, not under"
                f" {place.parent} ({parent_code.get(place.parent)})",
            )


def _place_source_problems(
    name: str, org: OrganizationRecord, sources: dict[str, SourceRecord]
) -> Iterator[SeedProblem]:
    """A home place the document omits must name the reference it comes from."""
    if org.place_source is None:
        return
    label = f"organization {org.slug}"
    source = sources.get(org.place_source)
    if source is None:
        yield SeedProblem(name, label, "place_source", f"unknown source {org.place_source!r}")
    elif source.kind != SourceKind.reference:
        yield SeedProblem(name, label, "place_source", f"source {source.id!r} is not a reference")
    if org.place is None:
        yield SeedProblem(
            name, label, "place_source", "names the source of a place that is not given"
        )


def _value_problems(dataset: Dataset) -> Iterator[SeedProblem]:
    units = {i.code: i.unit.value for i in dataset.indicators.indicators}
    records = {o.key: o for d in dataset.documents.values() for o in d.observations}
    derived = _Derivations(records, units)
    for name, document in dataset.documents.items():
        for program in document.programs:
            yield from _period_problem(
                name, f"program {program.slug}", "announced", program.announced
            )
        for observation in document.observations:
            label = f"observation {observation.key}"
            yield from _period_problem(name, label, "period", observation.period)
            unit = units.get(observation.indicator)
            if observation.formula is not None:
                yield from derived.problems(name, observation)
            elif unit is not None:
                yield from _observation_problems(name, observation, unit)


def _period_problem(name: str, label: str, field: str, period: str | None) -> Iterator[SeedProblem]:
    try:
        parse_period(period)
    except ValueError as exc:
        yield SeedProblem(name, label, field, f"{period!r} is not a valid period: {exc}")


class _Derivations:
    """Recomputes derived values at the precision their inputs justify (see precision.py)."""

    def __init__(self, records: dict[str, ObservationRecord], units: dict[str, str]) -> None:
        self.records = records
        self.units = units
        self.values = {key: float(o.value) for key, o in records.items()}

    def precision(self, key: str, trail: tuple[str, ...] = ()) -> Precision:
        observation = self.records[key]
        if observation.formula is None:
            return stated_precision(observation.stated or "")
        if key in trail:
            raise ValueError(f"formula refers back to {key!r}")
        inputs = [self.precision(k, (*trail, key)) for k in formula_inputs(observation.formula)]
        own = derived_precision(observation.formula, inputs)
        return result_precision(observation.value, own, product=is_product(observation.formula))

    def is_exact_count(self, key: str) -> bool:
        observation = self.records[key]
        return (
            self.units.get(observation.indicator) == "count"
            and observation.qualifier == Qualifier.exact
            and self.precision(key).digits is None
        )

    def problems(self, name: str, observation: ObservationRecord) -> Iterator[SeedProblem]:
        label = f"observation {observation.key}"
        formula = observation.formula or ""
        keys = formula_inputs(formula)
        if any(key not in self.records for key in keys):
            return  # reported as an unknown reference
        for key in keys:
            if self.records[key].qualifier in BOUNDS:
                yield SeedProblem(
                    name, label, "formula", f"input {key!r} is a bound, not a value to compute with"
                )
        try:
            computed = evaluate(formula, self.values)
            precision = derived_precision(formula, [self.precision(key) for key in keys])
        except (ValueError, ZeroDivisionError) as exc:
            yield SeedProblem(name, label, "formula", str(exc))
            return
        expected = round_to(computed, precision, product=is_product(formula))
        if not math.isclose(expected, observation.value, rel_tol=1e-9, abs_tol=1e-6):
            yield SeedProblem(
                name,
                label,
                "value",
                f"{observation.value} differs from its formula's {expected}"
                f" (rounded to what its inputs justify)",
            )
        qualifier = allowed_qualifier(
            formula, [(self.records[k].qualifier, self.is_exact_count(k)) for k in keys]
        )
        if observation.qualifier != qualifier:
            yield SeedProblem(
                name,
                label,
                "qualifier",
                f"a derived value {_QUALIFIER_RULE[qualifier]} is {qualifier.value!r},"
                f" not {observation.qualifier.value!r}",
            )


_QUALIFIER_RULE = {
    Qualifier.exact: "that only adds exact counts",
    Qualifier.approximate: "that subtracts, multiplies, divides or uses rounded inputs",
}


def _observation_problems(
    name: str, observation: ObservationRecord, unit: str
) -> Iterator[SeedProblem]:
    label = f"observation {observation.key}"
    assert observation.stated is not None
    assert observation.quote is not None
    try:
        quantity = parse_quantity(observation.stated)
    except ValueError as exc:
        yield SeedProblem(name, label, "stated", str(exc))
        return
    if quantity.unit not in COMPATIBLE_UNITS[unit]:
        yield SeedProblem(
            name,
            label,
            "stated",
            f"{observation.stated!r} is not in the indicator's unit {unit!r}",
        )
    if quantity.value != Decimal(str(observation.value)):
        yield SeedProblem(
            name,
            label,
            "value",
            f"{observation.value} is not what {observation.stated!r} states ({quantity.value})",
        )
    if not states(observation.quote, observation.stated):
        yield SeedProblem(name, label, "quote", f"the quote does not state {observation.stated!r}")
    cues = QUALIFIER_CUES.get(observation.qualifier, ())
    if cues and not any(re.search(rf"\b{cue}\b", normalise(observation.quote)) for cue in cues):
        yield SeedProblem(
            name,
            label,
            "qualifier",
            f"{observation.qualifier.value!r} needs one of {', '.join(cues)} in the quote",
        )

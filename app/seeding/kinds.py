"""The kinds of record a document file holds, as data: the reader builds the document's
shape from this table, the checks find duplicates and unknown references through it, and
the loader writes each kind's table from it, in this order.

A new kind is a table (app.models) and, here, its record class, its row and one entry in
`KINDS`; it gets the duplicate, reference and span checks without another line. The
records of the other seed files (sources, places, indicators, tables) and the base classes
are in app.seeding.records.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Self

from pydantic import Field, StrictFloat, StrictInt, create_model, model_validator

from ..facts.formulas import formula_inputs
from ..models.vocabulary import (
    ClusterStatus,
    OrganizationKind,
    ProgramKind,
    ProgramPlaceRole,
    Qualifier,
    RelationRole,
    SubjectKind,
)
from .periods import parse_period
from .records import Code, Evidenced, Key, PeriodLabel, Record, Slug, Text

Row = dict[str, Any]


@dataclass
class Written:
    """What the rows of the kinds written so far are known by: each kind's ids by natural
    key, and the place of each record that has one (an observation's subject lies there)."""

    ids: dict[str, dict[Any, int]] = field(default_factory=dict)
    places: dict[str, dict[Any, int]] = field(default_factory=dict)

    def id(self, kind: str, key: str | None) -> int | None:
        return None if key is None else self.ids[kind][key]


@dataclass(frozen=True)
class Reference:
    """A field of a record that names a record of another kind. With several kinds, the
    field is a choice naming exactly one of them (`target.place`, `subject.cluster`)."""

    field: str
    kinds: tuple[str, ...]
    names: Callable[[Any], list[str]] | None = None  # names in a value that is not a name

    def named(self, record: Record) -> Iterator[tuple[str, str, str]]:
        """(field, kind, name) of each record this one refers to."""
        value = getattr(record, self.field)
        if value is None:
            return
        if len(self.kinds) > 1:
            for kind in self.kinds:
                if (name := getattr(value, kind)) is not None:
                    yield f"{self.field}.{kind}", kind, name
        else:
            for name in self.names(value) if self.names else [value]:
                yield self.field, self.kinds[0], name


@dataclass(frozen=True)
class Kind:
    name: str  # in labels ("cluster hefei-intelligent-voice") and references
    section: str  # the document file's list of them
    record: type[Evidenced]
    table: str
    key: tuple[str, ...]  # the record's natural key (unique across all documents)
    table_key: tuple[str, ...]  # the same key as the table's columns
    references: tuple[Reference, ...]
    row: Callable[[Any, Written], Row]  # the table row, without its evidence columns
    label_fields: tuple[str, ...] = ()  # what a problem names it by, if not its key

    def records(self, document: Any) -> list[Evidenced]:
        records: list[Evidenced] = getattr(document, self.section)
        return records

    def key_of(self, record: Any) -> str:
        return "/".join(str(getattr(record, name)) for name in self.key)

    def label(self, record: Any) -> str:
        names = self.label_fields or self.key
        return f"{self.name} {'/'.join(str(getattr(record, name)) for name in names)}"


# The records a document file lists, one class per kind.


class OrganizationRecord(Evidenced):
    slug: Slug
    name: Text
    kind: OrganizationKind
    place: Slug | None = None
    place_source: Slug | None = Field(
        default=None, description="The reference source of a home place the document omits."
    )
    description: str | None = None


class ClusterRecord(Evidenced):
    slug: Slug
    name: Text
    sector: Text
    status: ClusterStatus
    place: Slug
    description: Text


class ProgramRecord(Evidenced):
    slug: Slug
    name: Text
    kind: ProgramKind
    place: Slug
    announced: PeriodLabel | None
    eligibility: str | None = None
    funding: str | None = None
    description: Text
    ambiguity: str | None = None


class ProgramPlaceRecord(Evidenced):
    program: Slug
    place: Slug
    role: ProgramPlaceRole
    note: str | None = None


class Target(Record):
    """Exactly one of the four things an organization can be linked to."""

    place: Slug | None = None
    cluster: Slug | None = None
    program: Slug | None = None
    organization: Slug | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [name for name, value in self if value is not None]
        if len(given) != 1:
            raise ValueError("name exactly one of place, cluster, program, organization")
        return self


class RelationRecord(Evidenced):
    key: Key
    organization: Slug
    role: RelationRole
    target: Target
    note: str | None = None


class Subject(Record):
    place: Slug | None = None
    cluster: Slug | None = None
    program: Slug | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [name for name, value in self if value is not None]
        if len(given) != 1:
            raise ValueError("name exactly one of place, cluster, program")
        return self

    @property
    def kind(self) -> str:
        return next(name for name, value in self if value is not None)

    @property
    def slug(self) -> str:
        return next(str(value) for _, value in self if value is not None)


class ObservationRecord(Evidenced):
    key: Key
    indicator: Code
    subject: Subject
    period: PeriodLabel | None
    value: StrictInt | StrictFloat
    stated: str | None = Field(default=None, min_length=1, max_length=120)
    qualifier: Qualifier
    formula: str | None = Field(default=None, max_length=400)
    note: str | None = None
    ambiguity: str | None = None

    @model_validator(mode="after")
    def _stated_or_derived(self) -> Self:
        if self.formula is None and (self.stated is None or self.at is None):
            raise ValueError("a stated value needs 'stated', 'at' and 'quote'")
        if self.formula is not None and (self.stated is not None or self.at is not None):
            raise ValueError("a derived value has a 'formula' and no 'stated', 'at' or 'quote'")
        return self


def _organization_row(org: OrganizationRecord, written: Written) -> Row:
    return {
        "slug": org.slug,
        "name": org.name,
        "kind": org.kind.value,
        "place_id": written.id("place", org.place),
        "place_source_id": org.place_source,
        "description": org.description,
    }


def _cluster_row(cluster: ClusterRecord, written: Written) -> Row:
    return {
        "slug": cluster.slug,
        "name": cluster.name,
        "sector": cluster.sector,
        "status": cluster.status.value,
        "place_id": written.id("place", cluster.place),
        "description": cluster.description,
    }


def _program_row(program: ProgramRecord, written: Written) -> Row:
    announced = parse_period(program.announced)
    return {
        "slug": program.slug,
        "name": program.name,
        "kind": program.kind.value,
        "place_id": written.id("place", program.place),
        "announced_on": announced.start,
        "announced_precision": announced.precision.value,
        "eligibility": program.eligibility,
        "funding": program.funding,
        "description": program.description,
        "ambiguity": program.ambiguity,
    }


def _program_place_row(link: ProgramPlaceRecord, written: Written) -> Row:
    return {
        "program_id": written.id("program", link.program),
        "place_id": written.id("place", link.place),
        "role": link.role.value,
        "note": link.note,
    }


def _relation_row(relation: RelationRecord, written: Written) -> Row:
    target = relation.target
    return {
        "key": relation.key,
        "organization_id": written.id("organization", relation.organization),
        "role": relation.role.value,
        "place_id": written.id("place", target.place),
        "cluster_id": written.id("cluster", target.cluster),
        "program_id": written.id("program", target.program),
        "partner_id": written.id("organization", target.organization),
        "note": relation.note,
    }


def _observation_row(observation: ObservationRecord, written: Written) -> Row:
    kind, slug = observation.subject.kind, observation.subject.slug
    period = parse_period(observation.period)
    return {
        "key": observation.key,
        "indicator_id": written.id("indicator", observation.indicator),
        "subject_kind": SubjectKind(kind).value,
        "place_id": written.places[kind][slug],
        "cluster_id": written.id("cluster", slug) if kind == "cluster" else None,
        "program_id": written.id("program", slug) if kind == "program" else None,
        "period_label": period.label,
        "period_start": period.start,
        "period_end": period.end,
        "period_precision": period.precision.value,
        "year": period.year,
        "value": float(observation.value),
        "stated": observation.stated,
        "qualifier": observation.qualifier.value,
        "derived": observation.formula is not None,
        "formula": " ".join(observation.formula.split()) if observation.formula else None,
        "ambiguity": observation.ambiguity,
        "note": observation.note,
    }


_PLACE = Reference("place", ("place",))
KINDS: tuple[Kind, ...] = (
    Kind("organization", "organizations", OrganizationRecord, "organization", ("slug",),
         ("slug",), (_PLACE,), _organization_row),
    Kind("cluster", "clusters", ClusterRecord, "cluster", ("slug",), ("slug",), (_PLACE,),
         _cluster_row),
    Kind("program", "programs", ProgramRecord, "program", ("slug",), ("slug",), (_PLACE,),
         _program_row),
    Kind("program_place", "program_places", ProgramPlaceRecord, "program_place",
         ("program", "place", "role"), ("program_id", "place_id", "role"),
         (Reference("program", ("program",)), _PLACE), _program_place_row,
         label_fields=("program", "place")),
    Kind("relation", "relations", RelationRecord, "relation", ("key",), ("key",),
         (Reference("organization", ("organization",)),
          Reference("target", ("place", "cluster", "program", "organization"))),
         _relation_row),
    Kind("observation", "observations", ObservationRecord, "observation", ("key",), ("key",),
         (Reference("indicator", ("indicator",)),
          Reference("subject", ("place", "cluster", "program")),
          Reference("formula", ("observation",), formula_inputs)),
         _observation_row),
)  # fmt: skip

# A document file: the source it was read from and a list of each kind of record.
DocumentFile = create_model(
    "DocumentFile",
    __base__=Record,
    __doc__="All the facts one document states.",
    source=(Slug, ...),
    **{kind.section: (list[kind.record], []) for kind in KINDS},  # type: ignore[call-overload,name-defined]
)

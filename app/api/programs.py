"""`/programs`: policies, pilots, plans and strategies, with issuers, places and terms."""

from datetime import date
from typing import Any

from pydantic import Field
from sqlalchemy import Connection, Select, select

from ..facts.search import BY_KIND
from ..models import tables as t
from ..models.vocabulary import (
    CoverageVia,
    PeriodPrecision,
    ProgramKind,
    ProgramPlaceRole,
)
from ..query import RANGE_OPERATORS, Filter, Sort, choice_filter
from ..query.expressions import IdSet
from ..query.facets import Facet
from ..query.lookups import coverage, covering, covering_via, through
from ..query.operators import OPERATORS
from ..query.spec import Condition
from ..query.statements import fetch_all, slot
from ..query.terms import id_set_value
from .located import HomePlace, Located, located_item, located_select, located_spec
from .metrics import Metric
from .relations import RelationView, relation, relation_views
from .resource import Detail, DetailContext, Found, PathKey, Resource, Tag
from .routing import nested_rows
from .shapes import (
    MetricsLink,
    PlaceRef,
    Provenance,
    Row,
    Schema,
    labelled,
    page_of,
    place_ref,
    provenance,
    provenance_columns,
)

PROGRAMS_TAG = Tag("programs", "Policies, pilots, plans and strategies.")


class Program(Schema):
    slug: str
    name: str
    kind: ProgramKind
    place: PlaceRef
    announced_on: date | None
    announced_precision: PeriodPrecision
    eligibility: str | None
    funding: str | None
    description: str | None
    ambiguity: str | None
    provenance: Provenance
    url: str
    via: list[CoverageVia] | None = Field(
        description="With `covers=`, every way the program covers the place(s) named: at it"
        " (place), at a place inside it (inside) or containing it (ancestor), or linked to it"
        " or a place around it (candidate, participant, scope); null without `covers=`.",
        examples=[["ancestor", "participant"]],
    )


ProgramPage = page_of(Program, "ProgramPage")


class ProgramPlaceView(Schema):
    place: PlaceRef
    role: ProgramPlaceRole
    note: str | None
    provenance: Provenance


class ProgramDetail(Program):
    issuers: list[RelationView]
    places: list[ProgramPlaceView]
    terms: list[Metric]
    links: MetricsLink


program = t.program
program_location = t.place.alias("program_location")


# The columns a program serves as they are, after its kind and its place.
_AS_STORED = (
    "announced_on",
    "announced_precision",
    "eligibility",
    "funding",
    "description",
    "ambiguity",
)


def programs_select() -> Select[Any]:
    own = (program.c.kind, *(program.c[name] for name in _AS_STORED))
    return located_select(program, program_location, *own)


def serialize_program(row: Row) -> dict[str, Any]:
    as_stored = {name: row[name] for name in _AS_STORED}
    place = place_ref(row, "place")
    item = located_item(row, "programs", kind=row["kind"], place=place, **as_stored)
    return {**item, "via": None}  # set by covers= (_annotate_via)


def _annotate_via(connection: Connection, items: list[dict[str, Any]], applied: Condition) -> None:
    """`covers=`: each program's ways of covering the places named (not for `covers__ne`)."""
    if OPERATORS[applied.operator].negated or not items:
        return
    count, slugs = len(applied.values), [item["slug"] for item in items]

    def build() -> Select[Any]:
        named = select(t.place.c.id).where(
            t.place.c.slug.in_([slot(f"k{j}") for j in range(count)])
        )
        ways = coverage(named).subquery()
        return (
            select(program.c.slug, ways.c.via)
            .join(ways, ways.c.id == program.c.id)
            .where(IdSet(program.c.slug, slot("slugs")))
        )

    values = {f"k{j}": value for j, value in enumerate(applied.values)}
    rows = fetch_all(
        connection,
        ("program ways", count),
        build,
        {**values, "slugs": id_set_value(connection, slugs)},
    )
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["slug"], set()).add(row["via"])
    for item in items:
        item["via"] = [via.value for via in CoverageVia if via.value in found.get(item["slug"], ())]


PROGRAM_SPEC = located_spec(
    Located(
        name="programs",
        noun="program",
        table=program,
        base=programs_select,
        schema=Program,
        serialize=serialize_program,
        examples=("manufacturing-city-tech-transformation-pilot", "pilot"),
        home=HomePlace(
            place="Slug of the place whose authorities run the program.",
            city="City slug: programs of the city or of places inside it.",
            anywhere="Slug of any place the program's place lies in.",
            examples=("china", "daye", "hunan", "china"),
            facet="the program's place",
        ),
        own=(choice_filter("kind", program.c.kind, ProgramKind, "pilot"),),
        more=(
            Filter(
                "covers",
                "Slug of a place the program covers: programs at the place, at a place containing"
                " it (national programs cover every province), inside it, or linked to any of"
                " those places (candidates, participants, scope).",
                column=program.c.id,
                lookup=covering(),
                example="hubei",
                annotate=_annotate_via,
            ),
            Filter(
                "via",
                "With `covers=`: only the programs that cover the place in one of these ways"
                " (place, inside, ancestor, candidate, participant, scope).",
                column=program.c.id,
                lookup=covering_via(),
                operators=("exact", "in"),
                choices=tuple(CoverageVia),
                example="candidate",
            ),
            Filter(
                "issuer",
                "Slug of an issuing organization.",
                column=program.c.id,
                lookup=through(
                    t.relation.c.program_id,
                    t.relation.c.organization_id,
                    t.organization,
                    "slug",
                    t.relation.c.role == "issuer",
                ),
                example="ministry-of-finance",
            ),
            Filter(
                "announced",
                "First day of the announcement's period.",
                date,
                RANGE_OPERATORS,
                column=program.c.announced_on,
                example="2024-04-01",
            ),
        ),
        sort=Sort("announced", program.c.announced_on, date, nullable=True),
        facets=(Facet("kind", "the program's kind", program.c.kind),),
    )
)


def _issuers_places_terms(
    connection: Connection, found: Found, _item: dict[str, Any], context: DetailContext
) -> dict[str, Any]:
    issuers = (relation.c.program_id == slot("id")) & (relation.c.role == "issuer")
    return {
        "issuers": relation_views(connection, "program issuers", issuers, found.id),
        "places": _program_places(connection, found.id),
        "terms": nested_rows(connection, context.views["metrics"], found, limit=100),
    }


def _program_places(connection: Connection, program_id: int) -> list[dict[str, Any]]:
    link, linked_place = t.program_place, t.place.alias("linked_place")

    def build() -> Select[Any]:
        return (
            select(
                link.c.role,
                link.c.note,
                *labelled("place", linked_place, "slug", "name", "level"),
                *provenance_columns(link, t.source),
            )
            .select_from(
                link.join(linked_place, linked_place.c.id == link.c.place_id).join(
                    t.source, t.source.c.id == link.c.source_id
                )
            )
            .where(link.c.program_id == slot("id"))
            .order_by(linked_place.c.name)
            .limit(500)
        )

    rows = fetch_all(connection, "program places", build, {"id": program_id})
    return [
        {
            "place": place_ref(row, "place"),
            "role": row["role"],
            "note": row["note"],
            "provenance": provenance(row),
        }
        for row in rows
    ]


PROGRAMS = Resource(
    name="programs",
    noun="program",
    tag=PROGRAMS_TAG,
    search=BY_KIND["program"],
    table=t.program,
    key=PathKey("slug", "slug", "program_slug", "manufacturing-city-tech-transformation-pilot"),
    spec=PROGRAM_SPEC,
    page=ProgramPage,
    summary="List programs",
    description="Policies, pilots, plans, strategies, designations and projects.",
    detail=Detail(
        ProgramDetail,
        summary="Get a program",
        description="A program with its issuers, the places it concerns and its terms.",
        more=_issuers_places_terms,
    ),
)

from datetime import date

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    Double,
    Index,
    Integer,
    Text,
    and_,
    column,
    extract,
    false,
    func,
    or_,
    text,
)
from sqlmodel import Column, Field

from .evidence import Evidence, counted_as
from .vocabulary import PeriodPrecision, Qualifier, SubjectKind, check_in


def period_year() -> ColumnElement[bool]:
    """`year` is the year `period_end` falls in, and neither is known without the other.

    The planner relies on it: a run of one period end is read as that year's rows
    (app.query.runs), which an index led by the year can drive. Written
    as an expression so each engine gets its own way of taking a date's year.
    """
    end, year = column("period_end", Date), column("year", Integer)
    return or_(
        and_(end.is_(None), year.is_(None)),
        # A period end SQLite cannot read as a date has no year: refused, not let through.
        and_(
            end.is_not(None),
            year.is_not(None),
            func.coalesce(year == extract("year", end), false()),
        ),
    )


class Observation(Evidence, table=True):
    """One value of an indicator for a subject in a period, with its provenance.

    `place_id` is always set (a cluster's or a program's own place), so geographic
    filters need no branching; `cluster_id`/`program_id` say when the subject is narrower.
    """

    __table_args__ = (
        CheckConstraint(check_in("subject_kind", SubjectKind), name="subject_kind"),
        CheckConstraint(check_in("qualifier", Qualifier), name="qualifier"),
        CheckConstraint(check_in("period_precision", PeriodPrecision), name="precision"),
        CheckConstraint(
            "(subject_kind = 'place' AND cluster_id IS NULL AND program_id IS NULL)"
            " OR (subject_kind = 'cluster' AND cluster_id IS NOT NULL AND program_id IS NULL)"
            " OR (subject_kind = 'program' AND program_id IS NOT NULL AND cluster_id IS NULL)",
            name="subject",
        ),
        CheckConstraint("derived = (formula IS NOT NULL)", name="derived_formula"),
        CheckConstraint(
            "(locator_row IS NULL) = (locator_column IS NULL)"
            " AND (locator_row IS NULL OR locator_start IS NULL)",
            name="one_locator",
        ),
        CheckConstraint(period_year(), name="period_year"),
        Index("ix_observation_indicator_year_value", "indicator_id", "year", "value", "id"),
        Index("ix_observation_place_indicator_year", "place_id", "indicator_id", "year", "id"),
        Index("ix_observation_indicator_value", "indicator_id", "value", "id"),
        # One index per sort order the lists offer, with the id that breaks ties, so a page
        # sorted on any of them can be read in index order (app.query.plan).
        Index("ix_observation_year_id", "year", "id"),
        Index("ix_observation_value_id", "value", "id"),
        Index("ix_observation_period_end_id", "period_end", "id"),
        # A year or a period end, then the value (`sort=year,-value`): each run of equal
        # first keys is one range in value order, either way (app.query.runs).
        Index("ix_observation_year_value_id", "year", "value", "id"),
        Index("ix_observation_period_end_value_id", "period_end", "value", "id"),
        # Few distinct values, but a rare one (derived facts, program subjects) must be found
        # without reading the table: the planner's probes count through these.
        Index("ix_observation_qualifier_id", "qualifier", "id"),
        Index("ix_observation_subject_kind_id", "subject_kind", "id"),
        Index("ix_observation_derived_id", "derived", "id"),
        Index("ix_observation_conflict_id", "conflict", "id"),
        Index("ix_observation_latest_id", "latest", "id"),
        # `latest=true` (or false) with a sort: one index range read in order, where the
        # flag's own index left a walk of the sort key that the flag filtered row by row
        # (`latest=true&sort=period_end` was refused at the time budget at 3M rows).
        Index("ix_observation_latest_period_end_id", "latest", "period_end", "id"),
        Index("ix_observation_latest_year_id", "latest", "year", "id"),
        Index("ix_observation_latest_value_id", "latest", "value", "id"),
        # A place's standings count each indicator's peers (app.query.standings): one range
        # of the indicator's picked facts, holding every column the counts read, so no row
        # of the table is visited. The latest facts are one in about 25 at scale: their
        # index holds only them (and names the flag, without which SQLite reads the table).
        Index(
            "ix_observation_indicator_latest_place",
            *("indicator_id", "latest", "subject_kind", "place_id", "value", "period_start"),
            *("period_end", "id"),
            sqlite_where=text("latest = 1"),
            postgresql_where=text("latest"),
        ),
        Index(
            "ix_observation_indicator_year_place",
            *("indicator_id", "year", "subject_kind", "place_id", "value", "period_start"),
            *("period_end", "id"),
        ),
        # The same candidates in the order of their value: the peers above a place's value,
        # and those level with it, are each one range of the index.
        Index(
            "ix_observation_indicator_latest_value",
            *("indicator_id", "latest", "subject_kind", "value", "place_id", "period_start"),
            "period_end",
            sqlite_where=text("latest = 1"),
            postgresql_where=text("latest"),
        ),
        Index(
            "ix_observation_indicator_year_kind_value",
            *("indicator_id", "year", "subject_kind", "value", "place_id", "period_start"),
            "period_end",
        ),
        counted_as("observations"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120, unique=True)
    indicator_id: int = Field(foreign_key="indicator.id")
    subject_kind: str = Field(max_length=8)
    place_id: int = Field(foreign_key="place.id")
    cluster_id: int | None = Field(default=None, foreign_key="cluster.id", index=True)
    program_id: int | None = Field(default=None, foreign_key="program.id", index=True)
    period_label: str | None = Field(default=None, max_length=32)
    period_start: date | None = None
    period_end: date | None = None
    period_precision: str = Field(max_length=8)
    year: int | None = None
    value: float = Field(sa_column=Column(Double, nullable=False))
    stated: str | None = Field(default=None, max_length=120)
    qualifier: str = Field(max_length=16)
    derived: bool = False
    formula: str | None = Field(default=None, max_length=400)
    ambiguity: str | None = Field(default=None, sa_column=Column(Text))
    note: str | None = Field(default=None, sa_column=Column(Text))
    # Marks the loader sets after writing, kept rather than computed per request so that
    # `conflict=true` and `latest=true` are index ranges, not a pass over the whole table:
    # another fact of the subject, indicator and known period gives another value
    # (app.facts.conflicts); the most recent fact of its subject and indicator
    # (app.facts.latest).
    conflict: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    latest: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    # A value read from a table's cell (RFC 7111 `cell=ROW,COLUMN`, the header line being
    # row 1) instead of a document's character span: the cell's text is the quote, and the
    # labels say what the cell is without the file at hand.
    locator_row: int | None = None
    locator_column: int | None = None
    row_label: str | None = Field(default=None, max_length=200)
    column_label: str | None = Field(default=None, max_length=200)
    cell_unit: str | None = Field(default=None, max_length=16)

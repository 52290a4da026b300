from datetime import date

from sqlalchemy import CheckConstraint, Text, UniqueConstraint
from sqlmodel import Column, Field

from .evidence import Evidence, counted_as
from .vocabulary import PeriodPrecision, ProgramKind, ProgramPlaceRole, check_in


class Program(Evidence, table=True):
    """A policy, pilot, plan or strategy, with the place whose authorities run it."""

    __table_args__ = (
        CheckConstraint(check_in("kind", ProgramKind), name="kind"),
        CheckConstraint(check_in("announced_precision", PeriodPrecision), name="precision"),
        counted_as("programs"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=300)
    kind: str = Field(max_length=16, index=True)
    place_id: int = Field(foreign_key="place.id", index=True)
    announced_on: date | None = None
    announced_precision: str = Field(default=PeriodPrecision.unknown, max_length=8)
    eligibility: str | None = Field(default=None, sa_column=Column(Text))
    funding: str | None = Field(default=None, sa_column=Column(Text))
    description: str = Field(sa_column=Column(Text, nullable=False))
    ambiguity: str | None = Field(default=None, sa_column=Column(Text))


class ProgramPlace(Evidence, table=True):
    """A place a program concerns beyond its own jurisdiction (a candidate, a participant)."""

    __tablename__ = "program_place"
    __table_args__ = (
        CheckConstraint(check_in("role", ProgramPlaceRole), name="role"),
        UniqueConstraint("program_id", "place_id", "role"),
        counted_as("program_places"),
    )

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    place_id: int = Field(foreign_key="place.id", index=True)
    role: str = Field(max_length=16)
    note: str | None = Field(default=None, sa_column=Column(Text))

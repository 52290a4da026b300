from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from .evidence import counted_as
from .vocabulary import CodeChange, PlaceLevel, check_in


class Place(SQLModel, table=True):
    """A country, province, city or district, with its parent in the hierarchy."""

    __table_args__ = (
        CheckConstraint(check_in("level", PlaceLevel), name="level"),
        Index("ix_place_level_name", "level", "name", "id"),
        # The default order of /places: with 3,249 divisions, a walk instead of a sort.
        Index("ix_place_name_id", "name", "id"),
        Index("ix_place_province_level_name", "province_id", "level", "name", "id"),
        counted_as("places"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    # Administrative division code of GB/T 2260 (six digits), for places in China.
    code: str | None = Field(default=None, max_length=6, unique=True)
    name: str = Field(max_length=200)
    name_local: str | None = Field(default=None, max_length=200)
    level: str = Field(max_length=24)
    parent_id: int | None = Field(default=None, foreign_key="place.id", index=True)
    province_id: int | None = Field(default=None, foreign_key="place.id")
    source_id: str = Field(foreign_key="source.id", max_length=64, index=True)
    longitude: float | None = None
    latitude: float | None = None


class PlaceAncestor(SQLModel, table=True):
    """Closure of the place hierarchy: every place with each of its ancestors and itself.

    Filters such as `province=hubei` become one indexed lookup instead of a recursive query.
    """

    __tablename__ = "place_ancestor"

    place_id: int = Field(foreign_key="place.id", primary_key=True)
    ancestor_id: int = Field(foreign_key="place.id", primary_key=True, index=True)
    depth: int


class FormerCode(SQLModel, table=True):
    """A division code a place, or part of its area, was once given: a county made a
    district or a county-level city takes a new code, two counties merge under one, a
    district is split among others.

    Two sources give them, each cited by its cell: the census tables, which give a place
    under the code it had in their year, and the history of the codes, which gives the
    years each code was in use and what became of its area (`change`). A place's own code
    is one only where other divisions joined the place under it (万盛区's 500110, qijiang's
    today)."""

    __tablename__ = "former_code"
    __table_args__ = (
        UniqueConstraint("source_id", "locator_row", "place_id"),
        CheckConstraint(check_in("change", CodeChange), name="change"),
        CheckConstraint("valid_to IS NULL OR valid_from <= valid_to", name="valid_years"),
        counted_as("former_codes"),
    )

    id: int | None = Field(default=None, primary_key=True)
    place_id: int = Field(foreign_key="place.id", index=True)
    code: str = Field(max_length=6, index=True)
    name_local: str = Field(max_length=200, description="The division's name under the code.")
    year: int = Field(
        description="A year the code was in use: the table's year, or the last year before"
        " the code was changed or abolished."
    )
    valid_from: int | None = Field(default=None, description="The first year the code was in use.")
    valid_to: int | None = Field(
        default=None, description="The year the code was changed or abolished."
    )
    change: str = Field(
        default=CodeChange.recoded.value,
        max_length=16,
        description="How the division under the code relates to the place.",
    )
    source_id: str = Field(foreign_key="source.id", max_length=64)
    locator_row: int
    locator_column: int

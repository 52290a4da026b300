from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.evidence import counted_as
from app.models.vocabulary import PlaceLevel, check_in


class Place(SQLModel, table=True):
    """A country, province, city or district, with its parent in the hierarchy."""

    __table_args__ = (
        CheckConstraint(check_in("level", PlaceLevel), name="level"),
        Index("ix_place_level_name", "level", "name", "id"),
        # The default order of /places: with 3,245 divisions, a walk instead of a sort.
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
    """A division code an official table gives a place under that is not the code it has
    today: a county that became a district or a county-level city, a prefecture that became
    a city, takes a new code. Read from the table's code cell, so each one is cited, and
    the census years it was in use are the years of the tables that give it."""

    __tablename__ = "former_code"
    __table_args__ = (UniqueConstraint("source_id", "locator_row"), counted_as("former_codes"))

    id: int | None = Field(default=None, primary_key=True)
    place_id: int = Field(foreign_key="place.id", index=True)
    code: str = Field(max_length=6, index=True)
    name_local: str = Field(max_length=200, description="The division's name in the table.")
    year: int = Field(description="The year the table describes, when the code was in use.")
    source_id: str = Field(foreign_key="source.id", max_length=64)
    locator_row: int
    locator_column: int

from sqlalchemy import CheckConstraint, Text
from sqlmodel import Column, Field

from .evidence import Evidence, counted_as
from .vocabulary import ClusterStatus, check_in


class Cluster(Evidence, table=True):
    """A named industrial cluster in a place."""

    __table_args__ = (
        CheckConstraint(check_in("status", ClusterStatus), name="status"),
        counted_as("clusters"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    sector: str = Field(max_length=100, index=True)
    status: str = Field(max_length=16)
    place_id: int = Field(foreign_key="place.id", index=True)
    description: str = Field(sa_column=Column(Text, nullable=False))

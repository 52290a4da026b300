from sqlalchemy import CheckConstraint, Text
from sqlmodel import Column, Field, SQLModel

from .vocabulary import Unit, check_in


class Indicator(SQLModel, table=True):
    """What is measured: a code, a normalized unit and a category."""

    __table_args__ = (CheckConstraint(check_in("unit", Unit), name="unit"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    unit: str = Field(max_length=32)
    category: str = Field(max_length=32, index=True)
    description: str = Field(sa_column=Column(Text, nullable=False))

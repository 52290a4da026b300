"""Where in which document a fact is stated.

A locator is a character span of the document's text in the form of RFC 5147
(`char=START,END`, zero-based code points, END exclusive), kept as two integers.
"""

from typing import Any

from sqlmodel import Field, SQLModel


class Evidence(SQLModel):
    source_id: str = Field(foreign_key="source.id", max_length=64, index=True)
    locator_start: int | None = None
    locator_end: int | None = None
    quote: str | None = Field(default=None, max_length=400)


def counted_as(plural: str) -> dict[str, Any]:
    """The last entry of a fact table's `__table_args__`: the name a source's detail counts
    its rows under (`"facts": {"clusters": 3}`). app.models.tables lists the tables that
    cite a source by it, and a table that cites one without it fails at import."""
    return {"info": {"plural": plural}}


def locator_text(start: int | None, end: int | None) -> str | None:
    if start is None or end is None:
        return None
    return f"char={start},{end}"

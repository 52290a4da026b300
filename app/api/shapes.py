"""How rows become JSON objects: the small pieces every resource shares.

Rows come from Core selects with labelled columns (`place_slug`, `source_title`, ...), and
these functions assemble nested objects from them without building model instances.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.sql.elements import Label

from app.models.evidence import locator_text

Row = Mapping[Any, Any]
API_PREFIX = "/api/v1"


def labelled(prefix: str, table: Any, *names: str) -> list[Label[Any]]:
    return [table.c[name].label(f"{prefix}_{name}") for name in names]


def place_ref(row: Row, prefix: str) -> dict[str, Any] | None:
    slug = row[f"{prefix}_slug"]
    if slug is None:
        return None
    return {
        "slug": slug,
        "name": row[f"{prefix}_name"],
        "level": row[f"{prefix}_level"],
        "url": f"{API_PREFIX}/places/{slug}",
    }


def ref(row: Row, prefix: str, collection: str) -> dict[str, Any] | None:
    slug = row[f"{prefix}_slug"]
    if slug is None:
        return None
    return {"slug": slug, "name": row[f"{prefix}_name"], "url": f"{API_PREFIX}/{collection}/{slug}"}


def provenance(row: Row) -> dict[str, Any]:
    return {
        "source": {
            "id": row["source_id"],
            "title": row["source_title"],
            "publisher": row["source_publisher"],
            "published_on": row["source_published_on"],
            "url": f"{API_PREFIX}/sources/{row['source_id']}",
        },
        "locator": locator_text(row["locator_start"], row["locator_end"]),
        "quote": row["quote"],
    }


def provenance_columns(table: Any, source: Any) -> list[ColumnElement[Any]]:
    return [
        source.c.id.label("source_id"),
        source.c.title.label("source_title"),
        source.c.publisher.label("source_publisher"),
        source.c.published_on.label("source_published_on"),
        table.c.locator_start,
        table.c.locator_end,
        table.c.quote,
    ]

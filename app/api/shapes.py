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
    """Where a fact is stated: a document's character span, or a table's cell with the
    labels that say what the cell is (only observations are read from tables)."""
    row_number = row.get("locator_row")
    cell = None
    locator = locator_text(row["locator_start"], row["locator_end"])
    if row_number is not None:
        locator = f"cell={row_number},{row['locator_column']}"
        cell = {
            "row": row_number,
            "column": row["locator_column"],
            "row_label": row["row_label"],
            "column_label": row["column_label"],
            "unit": row["cell_unit"],
            "table": row["source_table_title"],
        }
    return {
        "source": {
            "id": row["source_id"],
            "title": row["source_title"],
            "publisher": row["source_publisher"],
            "published_on": row["source_published_on"],
            "url": f"{API_PREFIX}/sources/{row['source_id']}",
        },
        "locator": locator,
        "quote": row["quote"],
        "cell": cell,
    }


def provenance_columns(table: Any, source: Any) -> list[ColumnElement[Any]]:
    columns = [
        source.c.id.label("source_id"),
        source.c.title.label("source_title"),
        source.c.publisher.label("source_publisher"),
        source.c.published_on.label("source_published_on"),
        table.c.locator_start,
        table.c.locator_end,
        table.c.quote,
    ]
    if "locator_row" in table.c:  # a table that holds facts read from cells
        columns += [
            table.c.locator_row,
            table.c.locator_column,
            table.c.row_label,
            table.c.column_label,
            table.c.cell_unit,
            source.c.table_title.label("source_table_title"),
        ]
    return columns

"""Ready citations of a source: CSL-JSON (what Zotero, Pandoc and citeproc read) and
BibTeX, each naming the dataset version the facts were taken from."""

import re
from datetime import date
from typing import Any

ATLAS = "Innovation Atlas"


def _note(version: str) -> str:
    return f"Cited via {ATLAS}, dataset version {version[:16]}"


def _published(source: dict[str, Any]) -> date | None:
    """The publication date, as a date: rows read through the driver carry SQLite's dates
    as ISO text (PostgreSQL's as dates)."""
    value = source["published_on"]
    return date.fromisoformat(value) if isinstance(value, str) else value


def csl_json(source: dict[str, Any], version: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": source["id"],
        "type": "article-newspaper" if source["kind"] == "document" else "dataset",
        "title": source["title"],
        "container-title": source["publisher"],
        "publisher": source["publisher"],
        "note": _note(version),
    }
    if source.get("author"):
        item["author"] = [{"literal": source.get("author")}]
    published = _published(source)
    if published is not None:
        item["issued"] = {"date-parts": [[published.year, published.month, published.day]]}
    if source.get("original_url"):
        item["URL"] = source.get("original_url")
    return {key: value for key, value in item.items() if value is not None}


_SPECIAL = re.compile(r"([\\{}&%$#_^~])")
_ESCAPES = {"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"}


def _bib(value: str) -> str:
    """A value BibTeX reads literally: its special characters escaped."""
    escaped = _SPECIAL.sub(lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), value)
    return "{" + escaped + "}"


def bibtex(source: dict[str, Any], version: str) -> str:
    entry = "article" if source["kind"] == "document" else "misc"
    fields: list[tuple[str, str]] = []
    if source["title"]:
        fields.append(("title", source["title"]))
    if source.get("author"):
        fields.append(("author", str(source.get("author"))))
    if source["publisher"]:
        fields.append(("journal" if entry == "article" else "publisher", source["publisher"]))
    published = _published(source)
    if published is not None:
        fields.append(("year", str(published.year)))
        fields.append(("month", str(published.month)))
        fields.append(("date", published.isoformat()))
    if source.get("original_url"):
        fields.append(("url", str(source["original_url"])))
    fields.append(("note", _note(version)))
    key = re.sub(r"[^A-Za-z0-9_:-]", "", source["id"])
    # an author such as "Staff Reporters" is one name, not a first and a last: braced twice
    body = ",\n".join(
        f"  {name} = " + ("{" + _bib(value) + "}" if name == "author" else _bib(value))
        for name, value in fields
    )
    return f"@{entry}{{{key},\n{body}\n}}\n"

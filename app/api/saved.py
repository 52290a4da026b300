"""What an export carries once saved: a file name naming the dataset version and the query,
and, asked for with `bom=true`, the UTF-8 byte-order mark a spreadsheet needs to read the
Chinese names right. Shared by the list exports (app.api.exports) and the exports of
computed answers (a series, a ranking)."""

import re
import unicodedata
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from starlette.datastructures import QueryParams

from ..errors import parameter_problem
from ..query.parsing import parse_bool

# Excel opens a CSV file as the machine's legacy code page (GBK, Windows-1252) unless the
# file starts with this mark; with it, UTF-8. Other readers (pandas with `utf-8-sig`, Python's
# csv module on such a file) skip it; some others keep it as part of the first header name,
# so it is asked for, not sent by default.
BOM = "\ufeff".encode()
BOM_PARAMETER: dict[str, Any] = {
    "name": "bom",
    "in": "query",
    "required": False,
    "description": "With `format=csv`: true starts the file with a UTF-8 byte-order mark, so"
    " that Excel reads its Chinese names as UTF-8. Refused with any other format.",
    "schema": {"type": "boolean", "default": False},
    "example": True,
}
SLUG_LENGTH = 60
VERSION_DIGITS = 12
_UNSAFE = re.compile(r"[^\w.]+")  # \w keeps letters of every script: 合肥 stays 合肥


def read_bom(params: QueryParams, kind: str) -> bool:
    """Whether the CSV starts with a byte-order mark; `bom=true` with another format is a 422
    (a mark in NDJSON or JSON would break their readers, and leaving it out in silence would
    hide that the request asked for something it did not get)."""
    values = params.getlist("bom")
    if not values:
        return False
    if len(values) > 1:
        raise parameter_problem("bom", "given more than once")
    wanted = parse_bool("bom", values[0])
    if wanted and kind != "csv":
        raise parameter_problem(
            "bom", f"a byte-order mark is for CSV only; add format=csv (the format is {kind})"
        )
    return wanted


def file_name(name: str, version: str, query: Sequence[tuple[str, str]], kind: str) -> str:
    """`atlas-<list>-<12 digits of the version>-<the query>.<kind>`: what a saved file says
    it holds (`atlas-metrics-5f0c1e2d3a4b-indicator-high_tech_enterprises.csv`). The query
    is its filters and sort as `name-value` pairs, shortened to SLUG_LENGTH characters;
    `all` when there is none."""
    words = "-".join(f"{key}-{value}" for key, value in query)
    slug = _UNSAFE.sub("-", words).strip("-.")[:SLUG_LENGTH].rstrip("-.") or "all"
    return f"atlas-{name}-{version[:VERSION_DIGITS]}-{slug}.{kind}"


def content_disposition(name: str) -> str:
    """An attachment named `name`: its ASCII form in `filename`, and when that had to change
    letters, the name itself in `filename*` (RFC 6266, UTF-8 percent-encoded), which browsers
    and curl -J prefer."""
    ascii_name = _ascii(name)
    header = f'attachment; filename="{ascii_name}"'
    if ascii_name != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


def _ascii(name: str) -> str:
    """Accents dropped (`Ürümqi` -> `Urumqi`), other letters as `_`."""
    decomposed = unicodedata.normalize("NFKD", name)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c if c.isascii() and c not in '"\\' else "_" for c in kept)

"""Lists as CSV or NDJSON: every matching row, streamed, with the list's own filters and sort.

An export is read as keyset pages of the list query (app.query.run_query), each page a
bounded statement under the time budget of its own `in_database` call, and written out as
it is read: memory stays one page deep however many rows match. The first page is read
before the response starts, so a bad query or an unavailable database is a problem-details
answer; a failure after that ends the stream without its final chunk, which HTTP clients
report as an incomplete transfer rather than a table that looks whole.

CSV columns are the JSON item's fields, nested objects flattened to dotted names
(`indicator.code`), in the order of the list's documented item schema.

An export says what it is: the query it answers (`X-Atlas-Query`), the dataset version
(`X-Atlas-Dataset-Version`) and the sources its rows come from (`X-Atlas-Sources`, their
ids, most rows first, with a `Link` to each source's page and its ready citation), counted
before the first row like a `source` facet: at most FACET_SIZE sources over FACET_ROWS
rows, `X-Atlas-Sources-Complete: false` when the list may be longer.
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel
from sqlalchemy import Connection
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from ..asgi import BODILESS
from ..errors import ProblemError, parameter_problem, shown
from ..models import tables as t
from ..paths import EXPORT_EXTENSIONS, UNVERSIONED
from ..query import ListQuery, ListSpec, Page, run_query
from ..query.cursors import decode_cursor
from ..query.facets import Facet, count_facets
from ..query.openapi import vocabulary_ref
from ..query.parsing import MAX_LIMIT, parse_limit
from ..query.spec import Condition
from .export_rows import CsvWriter, columns, ndjson_rows
from .saved import BOM, content_disposition, file_name
from .shapes import API_PREFIX

CSV_TYPE = "text/csv"
NDJSON_TYPE = "application/x-ndjson"
MEDIA_TYPES = {"csv": CSV_TYPE, "ndjson": NDJSON_TYPE}


class ExportFormat(StrEnum):
    """What a list answers: a JSON page, or every matching row as CSV or NDJSON."""

    json = "json"
    csv = "csv"
    ndjson = "ndjson"


FORMATS = tuple(ExportFormat)


class ExportFile(StrEnum):
    """The file formats of an export (the extension of a list's export address)."""

    csv = "csv"
    ndjson = "ndjson"


assert tuple(ExportFile) == EXPORT_EXTENSIONS


EXPORT_PAGE = MAX_LIMIT

Work = Callable[[Connection], Any]
RunPage = Callable[[ListQuery], Awaitable[Page]]
RETRY_AFTER_SECONDS = 5
logger = logging.getLogger("atlas")


class ExportSlots:
    """How many exports one worker streams at once (`ATLAS_EXPORT_SLOTS`). Each is a walk of
    every matching row; without a bound, 64 clients asking at once held 64 walks. A request
    past the bound is refused at once (429 with Retry-After) rather than queued: a queue
    would hold its connection and the client's patience, and a retry lands on a worker
    with room. A slot is given back when the stream ends: complete, or stopped because the
    client went away or stopped reading for ATLAS_SEND_TIMEOUT (the server then resets the
    connection, which ends the stream)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.taken = 0

    def take(self) -> None:
        if self.taken >= self.size:
            raise ProblemError(
                429,
                "too-many-exports",
                f"this worker is streaming its maximum of {self.size} exports; retry in"
                f" {RETRY_AFTER_SECONDS} s, or ask for a JSON page",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self.taken += 1

    def give_back(self) -> None:
        self.taken -= 1


class ExportResponse(StreamingResponse):
    """A streamed export that gives its slot back, and closes its walk, however it ends."""

    def __init__(self, *args: Any, on_close: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.on_close()


# Choosing the format ----------------------------------------------------------------------


def requested_format(params: QueryParams, accept: str | None) -> str:
    """`format=` when given, else the most preferred of JSON, CSV and NDJSON in Accept."""
    raw = params.get("format")
    if raw is not None:
        if len(params.getlist("format")) > 1:
            raise parameter_problem("format", "given more than once")
        if raw not in FORMATS:
            raise parameter_problem(
                "format", f"expected one of {', '.join(FORMATS)}, got {shown(raw)}"
            )
        return raw
    return preferred(accept) if accept else "json"


def preferred(accept: str) -> str:
    """The format an Accept header prefers (JSON on a tie, and when it names none)."""
    best, best_q = "json", -1.0
    for item in accept.split(","):
        media_range, *parameters = (part.strip().lower() for part in item.split(";"))
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        kind = {CSV_TYPE: "csv", NDJSON_TYPE: "ndjson"}.get(media_range, "json")
        if q > best_q or (q == best_q and kind == "json"):
            best, best_q = kind, q
    return best


# Columns ----------------------------------------------------------------------------------


def export_query(query: ListQuery, params: QueryParams) -> tuple[ListQuery, int | None]:
    """The query an export pages through, and the most rows it may write (`limit` given).
    `count=true` is kept for the first page only: its total goes in `X-Atlas-Total`."""
    cap = parse_limit(params.get("limit"), MAX_LIMIT, MAX_LIMIT) if "limit" in params else None
    return replace(query, limit=EXPORT_PAGE if cap is None else cap), cap


async def pages(run_page: RunPage, query: ListQuery, cap: int | None) -> AsyncIterator[Page]:
    """Keyset pages until the rows run out (or `cap` rows were read)."""
    page = await run_page(query)
    yield page
    query = replace(query, count=False)
    while page.next_cursor is not None and cap is None:
        query = replace(query, after=page.extra["after"])
        page = await run_page(query)
        yield page


def export_response(
    request: Request,
    *,
    kind: str,
    name: str,
    item_model: type[BaseModel],
    query: ListQuery,
    first: Page,
    rest: AsyncIterator[Page],
    version: str | None = None,
    sources: dict[str, Any] | None = None,
    on_close: Callable[[], None] = lambda: None,
    added: str | None = None,
    addable: str | None = None,
    file_query: Sequence[tuple[str, str]] = (),
    bom: bool = False,
) -> StreamingResponse:
    """The export's response. A request answered without a body (HEAD, a 304) gets the
    headers, computed from the first page, and no walk; otherwise the rest of the pages are
    read as the client takes them, and the walk stops when it goes away. `file_query` is
    what the file name says the rows answer; `bom` starts a CSV with a byte-order mark."""
    names = columns(item_model)
    if query.fields is not None:
        names = chosen_columns(names, (*query.fields, *([added] if added else [])))
    if addable is not None and added is None:  # the columns a control adds, only when asked
        names = [n for n in names if n.split(".", 1)[0] != addable]
    writer = CsvWriter(names)
    bodiless = bool(request.scope.get(BODILESS))

    async def body() -> AsyncIterator[bytes]:
        if bodiless:
            return
        if kind == "csv":
            yield (BOM if bom else b"") + writer.header() + writer.rows(first.items)
        else:
            yield ndjson_rows(first.items)
        async for page in rest:
            yield writer.rows(page.items) if kind == "csv" else ndjson_rows(page.items)

    media_type = f"{MEDIA_TYPES[kind]}; charset=utf-8"
    json_url = request.url.remove_query_params(["format", "bom"])
    read_at = version or getattr(request.state, "dataset_version", None) or UNVERSIONED
    headers = {
        "content-disposition": content_disposition(file_name(name, read_at, file_query, kind)),
        "x-atlas-query": describe(query),
        "link": f'<{json_url}>; rel="alternate"; type="application/json"',
    }
    if kind == "csv":
        headers["x-atlas-columns"] = ",".join(names)
    if version is not None:
        headers["x-atlas-dataset-version"] = version
    if sources is not None:
        ids = sources["ids"]
        headers["x-atlas-sources"] = ", ".join(ids)
        headers["x-atlas-sources-complete"] = "true" if sources["complete"] else "false"
        headers["link"] += "".join(
            f', <{request.base_url}{API_PREFIX.lstrip("/")}/sources/{i}>; rel="related";'
            ' title="source"'
            for i in ids
        )
    if first.total is not None:
        relation = "" if first.total_exact else " or more"
        headers["x-atlas-total"] = f"{first.total}{relation}"
    return ExportResponse(body(), media_type=media_type, headers=headers, on_close=on_close)


def chosen_columns(names: Sequence[str], fields: Sequence[str]) -> list[str]:
    """The columns `fields=` names, in the item's order: a field's own column, or every
    column of the object it names (`place`, `provenance.source`)."""
    return [n for n in names if any(n == f or n.startswith(f + ".") for f in fields)]


def describe(query: ListQuery) -> str:
    """The query an export answers, as a query string (filters, then sort)."""
    return urlencode([*query_pairs(query.filters), ("sort", query.sort_signature)])


def query_pairs(filters: Sequence[Condition]) -> list[tuple[str, str]]:
    """Filters as the query string gives them: (parameter, value) pairs."""
    return [(f.parameter, _value_text(f)) for f in filters]


def _value_text(applied: Condition) -> str:
    """A filter's value as the query string gave it: booleans as true and false."""
    value = applied.describe()["value"]
    values = value if isinstance(value, list) else [value]
    return ",".join(str(v).lower() if isinstance(v, bool) else str(v) for v in values)


def read_page(
    spec: ListSpec,
    query: ListQuery,
    *,
    secret: str,
    fixed: Sequence[Condition] = (),
    augment: str | None = None,
) -> Work:
    """A page of an export as work for `in_database`: the page, with its keyset position."""

    def work(connection: Connection) -> Page:
        page = run_query(connection, spec, query, secret=secret, fixed=fixed, augment=augment)
        if page.next_cursor is not None:
            page.extra["after"], _ = decode_cursor(
                page.next_cursor, spec=spec, query=query, secret=secret
            )
        return page

    return work


def _source_facet(spec: ListSpec) -> Facet | None:
    """Counting by source: the list's own `source_id` (or the source table's id)."""
    table = spec.id_column.table
    if table is t.source:
        column = t.source.c.id
    elif "source_id" in table.c:
        column = table.c.source_id
    else:
        return None  # indicators: defined by the atlas, cited by no document
    return Facet("source", "the source document", column, labels=t.source, key="id")


def cited_sources(
    spec: ListSpec, query: ListQuery, fixed: Sequence[Condition] = ()
) -> Callable[[Connection], dict[str, Any] | None]:
    """The sources of the rows an export will write, as work for `in_database`."""
    facet = _source_facet(spec)

    def work(connection: Connection) -> dict[str, Any] | None:
        if facet is None:
            return None
        counted = count_facets(connection, spec, [*fixed, *query.filters], [facet])
        values = counted["counts"]["source"]
        ids = [v["value"] for v in values["values"] if v["value"] is not None]
        return {"ids": ids, "complete": counted["exact"] and not values["truncated"]}

    return work


# Documentation ----------------------------------------------------------------------------

FORMAT_PARAMETER: dict[str, Any] = {
    "name": "format",
    "in": "query",
    "required": False,
    "description": "json (a page, the default), or csv or ndjson: every matching row,"
    " streamed. `Accept: text/csv` or `application/x-ndjson` chooses the same.",
    "schema": {**vocabulary_ref(ExportFormat), "default": "json"},
    "example": "csv",
}


def export_content(item_model: type[BaseModel] | None = None) -> dict[str, Any]:
    """The export media types of a 200 answer, with the CSV header as example when the
    item is known."""
    csv: dict[str, Any] = {"schema": {"type": "string", "description": "CSV with a header row."}}
    if item_model is not None:
        header = ",".join(columns(item_model))
        csv = {
            "schema": {"type": "string", "description": f"CSV with the header row: {header}"},
            "example": header + "\r\n",
        }
    return {
        CSV_TYPE: csv,
        NDJSON_TYPE: {
            "schema": {
                "type": "string",
                "description": "One JSON object per line, each an item of the JSON page.",
            },
            "example": "{}\n",
        },
    }


def fields_parameter(parameter: dict[str, Any], item: str, names: list[str]) -> dict[str, Any]:
    """`fields=` changes the page's shape: say which schema it then follows. It also takes
    the dotted names of the CSV header (`place.slug`)."""
    dotted = [n for n in names if "." in n]
    if not dotted:
        return {
            **parameter,
            "description": f"{parameter['description']} The page is then an `{item}FieldsPage`.",
        }
    one = r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*"
    return {
        **parameter,
        "description": f"{parameter['description']} Also the dotted names of the CSV"
        f" columns ({', '.join(dotted[:3])}, ...): a CSV then has that column alone, a JSON"
        " item the whole object holding it. The page is then an"
        f" `{item}FieldsPage`.",
        "schema": {**parameter["schema"], "pattern": f"^{one}(,{one})*$"},
    }


EXPORT_NOTE = (
    "\n\nWith `format=csv` or `format=ndjson` (or `Accept: text/csv` or"
    " `application/x-ndjson`) the answer is every matching row, streamed without a cursor,"
    " in the same filters and sort; `limit` then caps the rows, `fields` picks columns,"
    " `count=true` puts the total in `X-Atlas-Total`, and `facets` does not apply."
    " CSV columns are the item's fields, nested ones as dotted names (`place.slug`), which"
    " `fields` also takes; `bom=true` starts a CSV with a UTF-8 byte-order mark for Excel."
    " `Content-Disposition` names the file for the list, the dataset version and the query"
    " (`atlas-metrics-<12 digits>-indicator-high_tech_enterprises.csv`)."
)

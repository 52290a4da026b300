"""Computed answers as CSV or NDJSON: a series (a row per point), a ranking (a row per
entry), a place's standings (a row per indicator). Each answer is bounded (MAX_POINTS,
MAX_PEERS, MAX_INDICATORS), so it is computed in one read, as its JSON is, and written
whole; a list export, which may walk a whole table, streams instead (app.api.exports).

The file says what it holds as a list export does: `Content-Disposition` names the list,
the dataset version and the query, `X-Atlas-Query` and `X-Atlas-Columns` are set, and
`bom=true` starts a CSV with a byte-order mark."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from ..paths import UNVERSIONED
from .export_rows import CsvWriter, ndjson_rows
from .exports import CSV_TYPE, FORMAT_PARAMETER, MEDIA_TYPES, NDJSON_TYPE, requested_format
from .responses import answers
from .saved import BOM, BOM_PARAMETER, content_disposition, file_name, read_bom

CONTROLS = ("format", "bom")
PARAMETERS = [FORMAT_PARAMETER, BOM_PARAMETER]


@dataclass(frozen=True)
class Asked:
    """The representation a request asks for: json, csv or ndjson, and a CSV's mark."""

    kind: str
    bom: bool = False

    @property
    def rows(self) -> bool:
        return self.kind != "json"


def asked(request: Request) -> Asked:
    kind = requested_format(request.query_params, request.headers.get("accept"))
    return Asked(kind, read_bom(request.query_params, kind))


def answer_parameters(params: QueryParams) -> QueryParams:
    """The query parameters the answer itself reads: all but `format` and `bom`."""
    return QueryParams([(k, v) for k, v in params.multi_items() if k not in CONTROLS])


def rows_response(
    request: Request,
    wanted: Asked,
    *,
    name: str,
    columns: Sequence[str],
    rows: Sequence[dict[str, Any]],
    query: Sequence[tuple[str, str]],
) -> Response:
    """The rows as the file asked for, named for `name`, the version read and `query`."""
    if wanted.kind == "csv":
        writer = CsvWriter(columns)
        body = (BOM if wanted.bom else b"") + writer.header() + writer.rows(rows)
    else:
        body = ndjson_rows(rows)
    version = getattr(request.state, "dataset_version", None) or UNVERSIONED
    json_url = request.url.remove_query_params(list(CONTROLS))
    headers = {
        "content-disposition": content_disposition(file_name(name, version, query, wanted.kind)),
        "x-atlas-query": urlencode(query),
        "link": f'<{json_url}>; rel="alternate"; type="application/json"',
    }
    if wanted.kind == "csv":
        headers["x-atlas-columns"] = ",".join(columns)
    return Response(body, media_type=f"{MEDIA_TYPES[wanted.kind]}; charset=utf-8", headers=headers)


def ok_response(
    model: type[BaseModel], description: str, columns: Sequence[str], row: str
) -> dict[str, Any]:
    """The documented 200 of a computed answer: `model` as JSON, or its rows as CSV (with
    the header as example) or NDJSON (a line per `row`)."""
    header = ",".join(columns)
    return {
        "model": model,
        "description": f"{description} With `format=csv` or `format=ndjson`, a row per {row}.",
        "content": {
            CSV_TYPE: {
                "schema": {"type": "string", "description": f"CSV with the header row: {header}"},
                "example": header + "\r\n",
            },
            NDJSON_TYPE: {
                "schema": {"type": "string", "description": f"One JSON object per {row}."},
                "example": "{}\n",
            },
        },
    }


def row_answers(
    model: type[BaseModel],
    description: str,
    rows: tuple[Sequence[str], str],
    *errors: int,
    parameters: list[dict[str, Any]],
) -> dict[str, Any]:
    """`answers` for a computed answer that also comes as rows: its 200 is `ok_response`
    (`rows` being the columns and what one row is); its `parameters` list `format` and
    `bom` where the route takes them."""
    documented = answers(model, *errors, parameters=parameters)
    documented["responses"][200] = ok_response(model, description, *rows)
    return documented

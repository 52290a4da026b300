"""Every exportable list at a second address, `<list>.csv` or `<list>.ndjson`: the same
export as `format=csv` (or `ndjson`) on the list, as an operation of its own.

Why a second address: an operation's answer has one content per status, and generated
clients read one (openapi-python-client parses a 200 with the first media type it knows,
JSON). A list answering JSON, CSV or NDJSON by `format=` thus gives a Python client a JSON
parser for its CSV. The twin's only content is CSV and NDJSON, so the same generators give
back the text the server sent.

The twin is derived from the list route, whatever its endpoint (an operation taking `format=`
is exportable): the request is handed to the list route as `format=<extension>`, and its
document is the list's, less `format=`, with the extension as a path parameter.
"""

from typing import Any

from fastapi.routing import APIRoute
from starlette._exception_handler import wrap_app_handling_exceptions
from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import InvalidParameter, ProblemError, shown
from ..query.openapi import vocabulary_ref
from .exports import CSV_TYPE, FORMAT_PARAMETER, MEDIA_TYPES, NDJSON_TYPE, ExportFile
from .responses import problem_response_doc

SUFFIX = ".{format}"
FORMAT_PATH_PARAMETER: dict[str, Any] = {
    "name": "format",
    "in": "path",
    "required": True,
    "description": "csv or ndjson: the file format (as `format=` on the list).",
    "schema": vocabulary_ref(ExportFile),
    "example": "csv",
}


def exportable(route: APIRoute) -> bool:
    return FORMAT_PARAMETER in (route.openapi_extra or {}).get("parameters", ())


class ExportTwin:
    """The ASGI app at `<list>.{format}`: the request handed back to the router at the
    list's path, asking for that format."""

    def __init__(self, router: ASGIApp) -> None:
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["path_params"]["format"]
        if kind not in tuple(ExportFile):
            raise ProblemError(
                404, "not-found", f"no export as {shown(kind)}: the lists export as .csv or .ndjson"
            )
        media_type = MEDIA_TYPES[kind]
        if not _accepts(Headers(scope=scope).get("accept"), media_type):
            raise ProblemError(406, "not-acceptable", f"this export answers {media_type} only")
        query = scope.get("query_string", b"")
        if "format" in QueryParams(query):
            raise ProblemError(
                400, "unknown-parameter",
                "unknown query parameter 'format': the path's extension names the format",
                [InvalidParameter("format", "not a parameter of this endpoint: the path names it")],
            )  # fmt: skip
        path = scope["path"].removesuffix(f".{kind}")
        inner = {
            **scope,
            "path": path,
            "raw_path": path.encode(),
            "query_string": query + (b"&" if query else b"") + f"format={kind}".encode(),
        }
        for key in ("endpoint", "route", "path_params"):  # what matching the twin set
            inner.pop(key, None)
        # What the list raises is answered with the list's request (its route and path):
        # a moved key's Location is built from them.
        await wrap_app_handling_exceptions(self.router, Request(inner, receive, send))(
            inner, receive, send
        )


def _accepts(accept: str | None, media_type: str) -> bool:
    """Whether an Accept header takes `media_type` (no header takes anything): the most
    specific range that matches decides, and `q=0` refuses."""
    if accept is None:
        return True
    specificity = {media_type: 3, media_type.split("/")[0] + "/*": 2, "*/*": 1}
    specificity.pop("text/*", None)  # as for the lists: text/* names no format here
    best, taken = 0, False
    for item in accept.split(","):
        media_range, *parameters = (part.strip().lower() for part in item.split(";"))
        rank = specificity.get(media_range, 0)
        if rank > best:
            quality = [p.partition("=")[2] for p in parameters if p.startswith("q=")]
            best, taken = rank, not quality or _positive(quality[0])
    return taken


def _positive(quality: str) -> bool:
    try:
        return float(quality) > 0
    except ValueError:
        return False


def twin_routes(paths: list[str], router: ASGIApp) -> list[Route]:
    """The twin of each exportable list at `paths`, handing requests back to `router`."""
    twin = ExportTwin(router)
    return [
        Route(path + SUFFIX, twin, methods=["GET", "HEAD"], include_in_schema=False)
        for path in paths
    ]


def document_twins(schema: dict[str, Any]) -> None:
    """Each exportable operation's twin: its parameters but `format=`, the extension as a
    path parameter, its refusals, and a 200 of CSV and NDJSON only."""
    for path, item in list(schema["paths"].items()):
        operation = item.get("get", {})
        if FORMAT_PARAMETER not in operation.get("parameters", ()):
            continue
        name = operation["operationId"].removeprefix("list_").removeprefix("get_")
        content = operation["responses"]["200"]["content"]
        schema["paths"][path + SUFFIX] = {
            "get": {
                "tags": operation["tags"],
                "summary": f"{operation['summary']}: every row as a file",
                "description": f"The rows of `{operation['operationId']}` as CSV or NDJSON,"
                " as with its `format=`: every matching row, streamed, in the same filters"
                " and sort; `limit` caps the rows, `fields` picks the columns.",
                "operationId": f"export_{name}",
                "parameters": [
                    FORMAT_PATH_PARAMETER,
                    *(p for p in operation["parameters"] if p != FORMAT_PARAMETER),
                ],
                "responses": {
                    **{s: r for s, r in operation["responses"].items() if s != "200"},
                    # an extension that names no format, or a path key that names nothing
                    "404": problem_response_doc(404, path + SUFFIX),
                    "200": {
                        "description": "Every matching row (CSV or NDJSON).",
                        "content": {t: content[t] for t in (CSV_TYPE, NDJSON_TYPE)},
                    },
                },
            }
        }  # fmt: skip

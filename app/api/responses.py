"""JSON responses serialized once with orjson, and the documented error responses."""

from typing import Any, Literal

import orjson
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse

from ..errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPES
from ..paths import AS_OF_PATTERN
from .shapes import Schema


class ParameterError(Schema):
    """One parameter a request got wrong."""

    parameter: str = Field(examples=["limit"])
    in_: Literal["query", "path", "header", "body"] = Field(alias="in", examples=["query"])
    detail: str = Field(examples=["expected an integer from 1 to 500, got 0"])
    suggestions: list[str] = Field(
        default=[],
        description="Keys the value may have meant, nearest first (at most five), when it"
        " names nothing; for a path key naming several rows, the rows. Absent when none.",
        examples=[["hefei"]],
    )


class Problem(Schema):
    """An RFC 9457 problem details object."""

    type: str = Field(
        description="Relative reference to `/problems/{name}`, which explains the type.",
        examples=["/problems/invalid-parameter"],
    )
    title: str = Field(
        description="The problem type's title: one per type.", examples=["Invalid parameter"]
    )
    status: int = Field(ge=400, le=599, examples=[422])
    detail: str = Field(examples=["limit: expected an integer from 1 to 500, got 0"])
    instance: str = Field(examples=["/api/v1/metrics"])
    errors: list[ParameterError] | None = Field(
        default=None, description="Present when particular parameters are at fault."
    )


class RawJSON(JSONResponse):
    """The one JSON response: a body already serialized (in the worker thread, next to the
    query) goes out as it is, anything else is serialized with orjson. A JSONResponse
    subclass so that OpenAPI documents the declared model, not a bare string."""

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else orjson.dumps(content)


def to_json(content: Any) -> bytes:
    return orjson.dumps(content)


def answers(
    model: type[BaseModel],
    *errors: int,
    description: str = "Successful Response",
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The documentation of a GET route that answers `model` as JSON, or one of the
    `errors` as a problem, taking the query `parameters` (as keyword arguments of
    `APIRouter.get` or `add_api_route`)."""
    documented: dict[str, Any] = {
        "response_class": RawJSON,
        "responses": {
            200: {"model": model, "description": description},
            **problem_responses(*errors),
        },
    }
    if parameters is not None:
        documented["openapi_extra"] = {"parameters": parameters}
    return documented


# What each error status means here, with the body a client receives for a typical case.
PROBLEMS: dict[int, tuple[str, str, str, list[dict[str, str]] | None]] = {
    400: (
        "Unknown query parameter, invalid cursor, or a request that is not valid HTTP.",
        "unknown-parameter",
        "colour: not a parameter of this endpoint",
        [{"parameter": "colour", "in": "query", "detail": "not a parameter of this endpoint"}],
    ),
    404: ("No such resource.", "not-found", "no city 'atlantis'", None),
    406: (
        "The Accept header rules out JSON.",
        "not-acceptable",
        "this endpoint answers application/json only",
        None,
    ),
    414: (
        "The request target is longer than the server accepts.",
        "uri-too-long",
        "the request target exceeds 8192 bytes",
        None,
    ),
    409: (
        "The dataset version asked for (by `version=`, or by a cursor's walk) is not served by"
        " any database now: drop the pin, or restart the walk from the first page.",
        "cursor-version-gone",
        "cursor: this walk started on dataset version 02385866a8198f56, which no database"
        " serves any longer (the data was reloaded); restart the walk from the first page",
        [
            {
                "parameter": "cursor",
                "in": "query",
                "detail": "this walk started on dataset version 02385866a8198f56, which no database"
                " serves any longer (the data was reloaded); restart the walk from the first page",
            }
        ],
    ),
    410: (
        "The dataset version asked for (by `version=`, `as_of=` or a cursor's walk) was a"
        " release here and is no longer kept (`ATLAS_KEEP_RELEASES`); the detail names the"
        " oldest kept.",
        "version-retired",
        "version: dataset version 02385866a8198f56 (loaded at 2026-11-28T09:00:00Z) is no"
        " longer kept; the oldest kept is 9be1c0a2d4e6f801, loaded at 2026-12-01T09:00:00Z."
        " Pin a kept version, or drop the pin to read the current one",
        [
            {
                "parameter": "version",
                "in": "query",
                "detail": "dataset version 02385866a8198f56 (loaded at 2026-11-28T09:00:00Z) is"
                " no longer kept; the oldest kept is 9be1c0a2d4e6f801, loaded at"
                " 2026-12-01T09:00:00Z. Pin a kept version, or drop the pin to read the current"
                " one",
            }
        ],
    ),
    415: (
        "The request carries content; no endpoint takes any.",
        "unsupported-media-type",
        "GET requests take no content",
        None,
    ),
    422: (
        "A parameter has an invalid value; `errors` names it.",
        "invalid-parameter",
        "limit: expected an integer from 1 to 500, got 0",
        [
            {
                "parameter": "limit",
                "in": "query",
                "detail": "expected an integer from 1 to 500, got 0",
            }
        ],
    ),
    429: (
        "Exports only: this worker streams as many exports as it may; retry after"
        " `Retry-After` seconds, or ask for a JSON page.",
        "too-many-exports",
        "this worker is streaming its maximum of 4 exports; retry in 5 s, or ask for a JSON page",
        None,
    ),
    431: (
        "The request line and headers are larger than the server accepts.",
        "request-too-large",
        "the request line and headers exceed 16384 bytes",
        None,
    ),
    503: (
        "The database is unavailable or busy; retry after `Retry-After` seconds.",
        "service-unavailable",
        "the database could not be reached in time; retry shortly",
        None,
    ),
}


def problem_response_doc(status: int, instance: str = "/api/v1/cities") -> dict[str, Any]:
    """One documented error response: the Problem schema and an example of this status."""
    description, kind, detail, errors = PROBLEMS[status]
    example: dict[str, Any] = {
        "type": f"/problems/{kind}",
        "title": PROBLEM_TYPES[kind].title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors is not None:
        example["errors"] = errors
    content: dict[str, Any] = {
        "schema": {"$ref": "#/components/schemas/Problem"},
        "example": example,
    }
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: content},
    }
    return response  # with its headers (app.api.response_headers)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: problem_response_doc(status) for status in statuses}


VERSION_PARAMETER: dict[str, Any] = {
    "name": "version",
    "in": "query",
    "required": False,
    "description": "Answer from this dataset version (an `X-Atlas-Dataset-Version` value, or"
    " its first 12 or more digits, such as the 16 a citation prints) or not at all: while a"
    " database still holds it, the answer is read from it; otherwise 409 `version-gone`,"
    " naming the versions served. Without it, the answer comes from the current version of a"
    " fit database.",
    "schema": {"type": "string", "pattern": "^([0-9a-f]{12,64}|unversioned)$"},
    "example": "02385866a8198f562ceab1dce04590da52ab519cca42e3b99047010ececa5f8e",
}

AS_OF_PARAMETER: dict[str, Any] = {
    "name": "as_of",
    "in": "query",
    "required": False,
    "description": "Answer as published at this moment: from the release that was current"
    " then (the newest loaded before it), as if `version=` named it. A date means the end of"
    " that day in UTC; a timestamp needs its offset. Not with `version=`. A moment before the"
    " first release is a 422; a release no longer kept, a 410.",
    "schema": {"type": "string", "pattern": AS_OF_PATTERN},
    "example": "2026-12-01",
}


def document_versions(schema: dict[str, Any], prefix: str) -> None:
    """Every data operation (under `prefix`) takes `version=` and `as_of=`, and may answer
    409 for a version no database holds and 410 for a release no longer kept
    (app.middleware.PinnedVersionMiddleware, app.api.reads)."""
    for path, item in schema["paths"].items():
        if not path.startswith(prefix):
            continue
        for operation in item.values():
            operation.setdefault("parameters", []).extend([VERSION_PARAMETER, AS_OF_PARAMETER])
            operation["responses"]["409"] = problem_response_doc(409, path)
            operation["responses"]["410"] = problem_response_doc(410, path)
            operation["responses"].setdefault("422", problem_response_doc(422, path))

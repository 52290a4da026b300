"""JSON responses serialized once with orjson, and the documented error responses."""

from typing import Any

import orjson
from starlette.responses import JSONResponse

from app.errors import PROBLEM_MEDIA_TYPE


class RawJSON(JSONResponse):
    """A body already serialized (in the worker thread, next to the query). A JSONResponse
    subclass so that OpenAPI documents the declared model, not a bare string."""

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else orjson.dumps(content)


def to_json(content: Any) -> bytes:
    return orjson.dumps(content)


class JSONBody(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "Unknown query parameter, or an invalid cursor.",
        404: "No such resource.",
        422: "A parameter has an invalid value; `errors` names it.",
        503: "The database is unavailable or busy; retry after `Retry-After` seconds.",
    }
    return {
        status: {
            "description": descriptions[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }

"""Registering list and nested-list endpoints from a `ListSpec`, so every list endpoint
parses, queries, paginates and documents itself the same way."""

import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import Connection, select

from app.api.deps import in_database
from app.api.responses import RawJSON, problem_responses, to_json
from app.errors import ProblemError, parameter_problem
from app.query import (
    AppliedFilter,
    ListQuery,
    ListSpec,
    openapi_parameters,
    page_body,
    parse_query,
    run_query,
)
from app.query.execute import describe_cost
from app.query.statements import fetch_one, slot

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
SLUG_PATTERN_RE = re.compile(SLUG_PATTERN)
Exists = Callable[[Connection, str], bool]


def _secret(request: Request) -> str:
    secret: str = request.app.state.settings.cursor_secret
    return secret


def add_list_route(
    router: APIRouter,
    path: str,
    spec: ListSpec,
    *,
    operation_id: str,
    summary: str,
    description: str,
    page_model: type[BaseModel],
) -> None:
    async def endpoint(request: Request) -> RawJSON:
        secret = _secret(request)
        query = parse_query(spec, request.query_params, secret=secret, path=request.url.path)

        def work(connection: Connection) -> bytes:
            page = run_query(connection, spec, query, secret=secret)
            return to_json(page_body(request.url, query, page))

        return RawJSON(await in_database(request, work, **budget_terms(path, query)))

    _register_page_route(
        router, path, endpoint, operation_id=operation_id, summary=summary,
        description=description, page_model=page_model, errors=(400, 422, 503),
        parameters=openapi_parameters(spec),
    )  # fmt: skip


def budget_terms(path: str, query: ListQuery) -> dict[str, Any]:
    """What the time budget needs of a list request: the shape it remembers as heavy (the
    route, filters with their operators, and sort) and the words a refusal uses."""
    shape = (path, tuple(sorted(f.parameter for f in query.filters)), query.sort_signature)
    return {"shape": shape, "cost": describe_cost(query)}


def _register_page_route(
    router: APIRouter,
    path: str,
    endpoint: Callable[[Request], Awaitable[RawJSON]],
    *,
    operation_id: str,
    summary: str,
    description: str,
    page_model: type[BaseModel],
    errors: tuple[int, ...],
    parameters: list[dict[str, Any]],
) -> None:
    """The one way a page-returning GET route is registered and documented."""
    item = page_model.__name__.removesuffix("Page")
    parameters = [_with_subset(p, item) if p["name"] == "fields" else p for p in parameters]
    description = f"{description} With `fields=`, the page is an `{item}FieldsPage`."
    router.add_api_route(
        path,
        endpoint,
        methods=["GET"],
        operation_id=operation_id,
        summary=summary,
        description=description,
        response_class=RawJSON,
        responses={
            200: {"model": page_model, "description": "A page of results."},
            **problem_responses(*errors),
        },
        openapi_extra={"parameters": parameters},
    )


def _with_subset(parameter: dict[str, Any], item: str) -> dict[str, Any]:
    """`fields=` changes the page's shape: say which schema it then follows."""
    return {
        **parameter,
        "description": f"{parameter['description']} The page is then an `{item}FieldsPage`.",
    }


def add_nested_list_route(
    router: APIRouter,
    path: str,
    spec: ListSpec,
    *,
    fixed_filter: str,
    parent: str,
    path_parameter: str,
    exists: Exists,
    operation_id: str,
    summary: str,
    page_model: type[BaseModel],
) -> None:
    """`/parents/{key}/children`: the children's list with one filter fixed by the path."""

    flt = spec.filter(fixed_filter)
    assert flt is not None

    async def endpoint(request: Request) -> RawJSON:
        key = check_path_key(path_parameter, request.path_params[path_parameter])
        secret = _secret(request)
        query = parse_query(
            spec, request.query_params, secret=secret, fixed=(fixed_filter,), path=request.url.path
        )

        def work(connection: Connection) -> bytes:
            if not exists(connection, key):
                raise ProblemError(404, "not-found", f"no {parent} {key!r}")
            fixed = [AppliedFilter(flt, "exact", [key])]
            page = run_query(connection, spec, query, secret=secret, fixed=fixed)
            return to_json(page_body(request.url, query, page))

        return RawJSON(await in_database(request, work, **budget_terms(path, query)))

    _register_page_route(
        router, path, endpoint, operation_id=operation_id, summary=summary,
        description=f"The same query language as the top-level list, limited to one {parent}.",
        page_model=page_model, errors=(400, 404, 422, 503),
        parameters=[
            path_parameter_doc(path_parameter, f"The {parent}'s key."),
            *openapi_parameters(spec, fixed=(fixed_filter,)),
        ],
    )  # fmt: skip


def check_path_key(name: str, value: str) -> str:
    if len(value) > 64 or SLUG_PATTERN_RE.match(value) is None:
        raise parameter_problem(
            name, "expected lower-case letters, digits, - or _ (at most 64)", location="path"
        )
    return value


def path_parameter_doc(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "pattern": SLUG_PATTERN, "maxLength": 64},
    }


def exists_in(table: Any, key: str = "slug", **conditions: Any) -> Exists:
    def build() -> Any:
        statement = select(table.c.id).where(table.c[key] == slot("key"))
        for column, allowed in conditions.items():
            statement = statement.where(table.c[column].in_(allowed))
        return statement.limit(1)

    shape = ("exists", table.name, key, tuple(sorted(conditions)))

    def check(connection: Connection, value: str) -> bool:
        return fetch_one(connection, shape, build, {"key": value}) is not None

    return check

"""Registering list and nested-list endpoints from a `ListSpec`, so every list endpoint
parses, queries, paginates and documents itself the same way."""

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import Connection

from app.api.deps import ConnectionDep
from app.api.listing import ListSpec, openapi_parameters, page_body, parse_query, run_query
from app.api.responses import JSONBody, problem_responses
from app.errors import ProblemError, parameter_problem

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
    def endpoint(request: Request, connection: ConnectionDep) -> JSONBody:
        secret = _secret(request)
        query = parse_query(spec, request.query_params, secret=secret)
        page = run_query(connection, spec, query, secret=secret)
        return JSONBody(page_body(request.url, query, page))

    router.add_api_route(
        path,
        endpoint,
        methods=["GET"],
        operation_id=operation_id,
        summary=summary,
        description=description,
        response_class=JSONBody,
        responses={
            200: {"model": page_model, "description": "A page of results."},
            **problem_responses(400, 422, 503),
        },
        openapi_extra={"parameters": openapi_parameters(spec)},
    )


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

    def endpoint(request: Request, connection: ConnectionDep) -> JSONBody:
        key = check_path_key(path_parameter, request.path_params[path_parameter])
        secret = _secret(request)
        query = parse_query(spec, request.query_params, secret=secret, fixed=(fixed_filter,))
        if not exists(connection, key):
            raise ProblemError(404, "not-found", f"no {parent} {key!r}")
        flt = spec.filter(fixed_filter)
        assert flt is not None
        page = run_query(
            connection, spec, query, secret=secret, where=[flt.condition("exact", [key])]
        )
        return JSONBody(page_body(request.url, query, page))

    router.add_api_route(
        path,
        endpoint,
        methods=["GET"],
        operation_id=operation_id,
        summary=summary,
        description=f"The same query language as the top-level list, limited to one {parent}.",
        response_class=JSONBody,
        responses={
            200: {"model": page_model, "description": "A page of results."},
            **problem_responses(400, 404, 422, 503),
        },
        openapi_extra={
            "parameters": [
                path_parameter_doc(path_parameter, f"The {parent}'s key."),
                *openapi_parameters(spec, fixed=(fixed_filter,)),
            ]
        },
    )


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
    from sqlalchemy import select

    def check(connection: Connection, value: str) -> bool:
        statement = select(table.c.id).where(table.c[key] == value)
        for column, allowed in conditions.items():
            statement = statement.where(table.c[column].in_(allowed))
        return connection.execute(statement.limit(1)).first() is not None

    return check

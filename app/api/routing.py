"""Registering list and nested-list endpoints from a `ListSpec`, so every list endpoint
parses, queries, paginates and documents itself the same way."""

import re
from collections.abc import Awaitable, Callable
from typing import Any, get_args

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import Connection, select
from starlette.datastructures import QueryParams
from starlette.responses import Response

from app.api import exports
from app.api.deps import in_database
from app.api.responses import RawJSON, problem_responses, to_json
from app.api.shapes import API_PREFIX
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
from app.query.facets import Facet, count_facets, facets_parameter, parse_facets
from app.query.spec import Page
from app.query.statements import fetch_one, slot

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
SLUG_PATTERN_RE = re.compile(SLUG_PATTERN)
Exists = Callable[[Connection, str], bool]
# Path templates of the list routes, which also answer CSV and NDJSON (see app.api.exports).
EXPORTABLE: list[re.Pattern[str]] = []


def exportable(path: str) -> bool:
    """Whether `path` is a list route, so an Accept of CSV or NDJSON is one it can serve."""
    return any(pattern.fullmatch(path) for pattern in EXPORTABLE)


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
    async def endpoint(request: Request) -> Response:
        secret = _secret(request)
        kind, params = _format_and_params(request)
        query = parse_query(spec, params, secret=secret, path=request.url.path)
        facets = _facets(spec, request, kind)
        if kind != "json":
            return await _export(request, spec, query, params, kind=kind, path=path,
                                 page_model=page_model)  # fmt: skip

        def work(connection: Connection) -> bytes:
            page = run_query(connection, spec, query, secret=secret)
            body = page_body(request.url, query, page)
            return to_json(_with_facets(connection, body, spec, query.filters, facets))

        return RawJSON(await in_database(request, work, **budget_terms(path, query)))

    _register_page_route(
        router, path, endpoint, operation_id=operation_id, summary=summary,
        description=description, page_model=page_model, errors=(400, 422, 503),
        parameters=[*openapi_parameters(spec), *facets_parameter(spec.facets)],
    )  # fmt: skip


def _format_and_params(request: Request) -> tuple[str, QueryParams]:
    """The answer's format, and the query parameters the list query reads (without the
    `format` and `facets` controls, which are read here)."""
    kind = exports.requested_format(request.query_params, request.headers.get("accept"))
    params = request.query_params
    kept = [(k, v) for k, v in params.multi_items() if k not in ("format", "facets")]
    return kind, QueryParams(kept)


def _facets(spec: ListSpec, request: Request, kind: str) -> list[Facet]:
    params = request.query_params
    if len(params.getlist("facets")) > 1:
        raise parameter_problem("facets", "given more than once; name several facets with commas")
    facets = parse_facets(spec.facets, params.get("facets"))
    return facets if kind == "json" else []  # an export carries rows only (documented)


def _with_facets(
    connection: Connection,
    body: dict[str, Any],
    spec: ListSpec,
    filters: list[AppliedFilter],
    facets: list[Facet],
) -> dict[str, Any]:
    if facets:
        body["meta"]["facets"] = count_facets(connection, spec, filters, facets)
    return body


async def _export(
    request: Request,
    spec: ListSpec,
    query: ListQuery,
    params: QueryParams,
    *,
    kind: str,
    path: str,
    page_model: type[BaseModel],
    fixed: tuple[AppliedFilter, ...] = (),
) -> Response:
    """The list as CSV or NDJSON: every matching row, each keyset page read under the
    time budget of its own `in_database` call."""
    export, cap = exports.export_query(query, params)
    terms = budget_terms(path, export)
    secret = _secret(request)

    async def run_page(page_query: ListQuery) -> Page:
        work = exports.read_page(spec, page_query, secret=secret, fixed=fixed)
        page: Page = await in_database(request, work, **terms)
        return page

    pages = exports.pages(run_page, export, cap)
    first = await anext(pages)
    sources = await in_database(request, exports.cited_sources(spec, export, fixed), **terms)
    return exports.export_response(
        request, kind=kind, name=spec.name, item_model=item_model_of(page_model),
        query=export, first=first, rest=pages, sources=sources,
    )  # fmt: skip


def item_model_of(page_model: type[BaseModel]) -> type[BaseModel]:
    (item,) = get_args(page_model.model_fields["data"].annotation)
    assert isinstance(item, type)
    assert issubclass(item, BaseModel)
    return item


def budget_terms(path: str, query: ListQuery) -> dict[str, Any]:
    """What the time budget needs of a list request: the shape it remembers as heavy (the
    route, filters with their operators, and sort) and the words a refusal uses."""
    shape = (path, tuple(sorted(f.parameter for f in query.filters)), query.sort_signature)
    return {"shape": shape, "cost": describe_cost(query)}


def _register_page_route(
    router: APIRouter,
    path: str,
    endpoint: Callable[[Request], Awaitable[Response]],
    *,
    operation_id: str,
    summary: str,
    description: str,
    page_model: type[BaseModel],
    errors: tuple[int, ...],
    parameters: list[dict[str, Any]],
) -> None:
    """The one way a page-returning GET route is registered and documented: as JSON pages,
    and as CSV and NDJSON exports of every matching row."""
    EXPORTABLE.append(re.compile(re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(API_PREFIX + path))))
    item = page_model.__name__.removesuffix("Page")
    parameters = [_with_subset(p, item) if p["name"] == "fields" else p for p in parameters]
    description = f"{description} With `fields=`, the page is an `{item}FieldsPage`."
    router.add_api_route(
        path,
        endpoint,
        methods=["GET"],
        operation_id=operation_id,
        summary=summary,
        description=description + EXPORT_NOTE,
        response_class=RawJSON,
        responses={
            200: {
                "model": page_model,
                "description": "A page of results (JSON), or every matching row (CSV, NDJSON).",
                "content": exports.export_content(item_model_of(page_model)),
            },
            **problem_responses(*errors),
        },
        openapi_extra={"parameters": [*parameters, exports.FORMAT_PARAMETER]},
    )


def _with_subset(parameter: dict[str, Any], item: str) -> dict[str, Any]:
    """`fields=` changes the page's shape: say which schema it then follows."""
    return {
        **parameter,
        "description": f"{parameter['description']} The page is then an `{item}FieldsPage`.",
    }


EXPORT_NOTE = (
    "\n\nWith `format=csv` or `format=ndjson` (or `Accept: text/csv` or"
    " `application/x-ndjson`) the answer is every matching row, streamed without a cursor,"
    " in the same filters and sort; `limit` then caps the rows, `fields` picks columns,"
    " `count=true` puts the total in `X-Atlas-Total`, and `facets` does not apply."
    " CSV columns are the item's fields, nested ones as dotted names (`place.slug`)."
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

    flt = spec.filter(fixed_filter)
    assert flt is not None

    def _must_exist(connection: Connection, key: str) -> None:
        if not exists(connection, key):
            raise ProblemError(404, "not-found", f"no {parent} {key!r}")

    async def endpoint(request: Request) -> Response:
        key = check_path_key(path_parameter, request.path_params[path_parameter])
        secret = _secret(request)
        kind, params = _format_and_params(request)
        query = parse_query(
            spec, params, secret=secret, fixed=(fixed_filter,), path=request.url.path
        )
        facets = _facets(spec, request, kind)
        if kind != "json":
            await in_database(request, lambda connection: _must_exist(connection, key))
            fixed = (AppliedFilter(flt, "exact", [key]),)
            return await _export(request, spec, query, params, kind=kind, path=path,
                                 page_model=page_model, fixed=fixed)  # fmt: skip

        def work(connection: Connection) -> bytes:
            _must_exist(connection, key)
            fixed = [AppliedFilter(flt, "exact", [key])]
            page = run_query(connection, spec, query, secret=secret, fixed=fixed)
            body = page_body(request.url, query, page)
            return to_json(_with_facets(connection, body, spec, [*fixed, *query.filters], facets))

        return RawJSON(await in_database(request, work, **budget_terms(path, query)))

    _register_page_route(
        router, path, endpoint, operation_id=operation_id, summary=summary,
        description=f"The same query language as the top-level list, limited to one {parent}.",
        page_model=page_model, errors=(400, 404, 422, 503),
        parameters=[
            path_parameter_doc(path_parameter, f"The {parent}'s key."),
            *openapi_parameters(spec, fixed=(fixed_filter,)),
            *facets_parameter(spec.facets),
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

"""Registering list and nested-list endpoints from a `ListSpec`, so every list endpoint
parses, queries, paginates and documents itself the same way."""

from collections.abc import Awaitable, Callable
from typing import Any, get_args

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy import Connection
from starlette.datastructures import Headers, QueryParams
from starlette.responses import Response
from starlette.types import Scope

from ..errors import ProblemError, parameter_problem
from ..explorer import prefers_html
from ..paths import API_PREFIX
from ..query import (
    Condition,
    ListQuery,
    ListSpec,
    openapi_parameters,
    page_body,
    parse_query,
    run_query,
)
from ..query.counts import count_matching
from ..query.envelope import describe_cost
from ..query.execute import materialise, row_by_key
from ..query.facets import Facet, count_facets, facets_parameter, parse_facets
from ..query.snapshot import snapshot_version
from ..query.spec import Page
from . import exports
from .export_rows import columns
from .keys import SLUG_PATTERN_RE, check_path_key, find, key_doc, path_parameter_doc
from .reads import Wanted, in_database, no_query_parameters
from .resource import (
    Detail,
    DetailContext,
    Found,
    Mount,
    Nested,
    Resource,
)
from .responses import RawJSON, answers, problem_responses, to_json
from .saved import BOM_PARAMETER, read_bom
from .views import add_view_route


def negotiation(exportable: Callable[[str], bool]) -> Callable[[Scope], str | None]:
    """The representation a request negotiates (`format=` or Accept), as validators key
    it; None when the request is one the endpoint will refuse. `exportable` says which
    paths are list routes (app.api.include_api), the only ones that also answer CSV and
    NDJSON."""

    def representation(scope: Scope) -> str | None:
        path: str = scope["path"]
        accept = Headers(scope=scope).get("accept")
        if path == "/":
            return "html" if prefers_html(accept) else "json"
        if not exportable(path):
            return "json"
        try:
            return exports.requested_format(QueryParams(scope.get("query_string", b"")), accept)
        except ProblemError:
            return None

    return representation


def _secret(request: Request) -> str:
    secret: str = request.app.state.cursor_secret
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
    item_columns = tuple(columns(item_model_of(page_model)))  # what `fields=` takes

    async def endpoint(request: Request) -> Response:
        secret = _secret(request)
        kind, params, bom = _format_and_params(request, spec)
        query = parse_query(spec, params, secret=secret, path=request.url.path,
                            columns=item_columns)  # fmt: skip
        facets = _facets(spec, request, kind)
        augment = _augment(spec, request)
        if kind != "json":
            return await _export(request, spec, query, params, kind=kind, path=path,
                                 page_model=page_model, augment=augment, bom=bom)  # fmt: skip

        def work(connection: Connection) -> bytes:
            page = run_query(connection, spec, query, secret=secret, augment=augment)
            body = page_body(request.url, query, page)
            return to_json(_with_facets(connection, body, spec, query.filters, facets))

        return RawJSON(await in_database(request, work, **budget_terms(path, query)))

    _register_page_route(
        router, path, endpoint, operation_id=operation_id, summary=summary,
        description=description, page_model=page_model,
        errors=(400, 422, 503),
        parameters=[*openapi_parameters(spec), *facets_parameter(spec.facets),
                    *augment_parameter(spec)],
    )  # fmt: skip


def _format_and_params(request: Request, spec: ListSpec) -> tuple[str, QueryParams, bool]:
    """The answer's format, the query parameters the list query reads (without the
    `format`, `bom` and `facets` controls and the spec's augmenting one, which are read
    here), and whether a CSV starts with a byte-order mark."""
    kind = exports.requested_format(request.query_params, request.headers.get("accept"))
    bom = read_bom(request.query_params, kind)
    params = request.query_params
    own = ("format", "bom", "facets", *([spec.augment.name] if spec.augment else []))
    kept = [(k, v) for k, v in params.multi_items() if k not in own]
    return kind, QueryParams(kept), bom


def _augment(spec: ListSpec, request: Request) -> str | None:
    if spec.augment is None:
        return None
    name = spec.augment.name
    values = request.query_params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise parameter_problem(name, "given more than once")
    return values[0]


def augment_parameter(spec: ListSpec) -> list[dict[str, Any]]:
    return [spec.augment.parameter] if spec.augment else []


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
    filters: list[Condition],
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
    fixed: tuple[Condition, ...] = (),
    augment: str | None = None,
    bom: bool = False,
) -> Response:
    """The list as CSV or NDJSON: every matching row, each keyset page read under the
    time budget of its own `in_database` call (with what an augmenting control adds)."""
    export, cap = exports.export_query(query, params)
    terms = budget_terms(path, export)
    secret = _secret(request)

    async def run_page(page_query: ListQuery) -> Page:
        work = exports.read_page(spec, page_query, secret=secret, fixed=fixed, augment=augment)
        page: Page = await in_database(request, work, **terms)
        return page

    slots: exports.ExportSlots = request.app.state.export_slots
    slots.take()
    try:
        pages = exports.pages(run_page, export, cap)
        first = await anext(pages)
        sources = await in_database(request, exports.cited_sources(spec, export, fixed), **terms)
    except BaseException:
        slots.give_back()
        raise
    return exports.export_response(
        request, kind=kind, name=spec.name, item_model=item_model_of(page_model),
        query=export, first=first, rest=pages, sources=sources, on_close=slots.give_back,
        added=spec.augment.name if spec.augment and augment is not None else None,
        addable=spec.augment.name if spec.augment else None,
        file_query=[*exports.query_pairs((*fixed, *query.filters)),
                    *(("sort", s) for s in params.getlist("sort"))],
        bom=bom,
    )  # fmt: skip


def item_model_of(page_model: type[BaseModel]) -> type[BaseModel]:
    (item,) = get_args(page_model.model_fields["data"].annotation)
    assert isinstance(item, type)
    assert issubclass(item, BaseModel)
    return item


def budget_terms(path: str, query: ListQuery) -> dict[str, Any]:
    """What `in_database` needs of a list request: the shape the time budget remembers as
    heavy or quick (the route, filters with their operators, sort, page size and count: a
    page of 500 may be heavy where one of 10 is not), the words a refusal uses, and the
    dataset version a cursor's walk must continue at."""
    filters = tuple(sorted(f.parameter for f in query.filters))
    shape = (path, filters, query.sort_signature, query.limit, query.count)
    version = Wanted(query.version, "cursor") if query.version else None
    return {"shape": shape, "cost": describe_cost(query), "version": version}


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
    item = page_model.__name__.removesuffix("Page")
    names = columns(item_model_of(page_model))
    parameters = [
        exports.fields_parameter(p, item, names) if p["name"] == "fields" else p for p in parameters
    ]
    description = f"{description} With `fields=`, the page is an `{item}FieldsPage`."
    router.add_api_route(
        path,
        endpoint,
        methods=["GET"],
        operation_id=operation_id,
        summary=summary,
        description=description + exports.EXPORT_NOTE,
        response_class=RawJSON,
        responses={
            200: {
                "model": page_model,
                "description": "A page of results (JSON), or every matching row (CSV, NDJSON).",
                "content": exports.export_content(item_model_of(page_model)),
            },
            **problem_responses(*errors),
        },
        openapi_extra={"parameters": [*parameters, exports.FORMAT_PARAMETER, BOM_PARAMETER]},
    )


def add_resource_routes(router: APIRouter, mount: Mount) -> None:
    """A mounted resource's routes: its list, its nested lists and views, then its detail."""
    resource = mount.resource
    add_list_route(
        router, f"/{resource.name}", resource.spec, operation_id=f"list_{resource.name}",
        summary=resource.summary, description=resource.description, page_model=resource.page,
    )  # fmt: skip
    for view in mount.nested:
        add_nested_list_route(router, resource, view)
    for computed in mount.views:
        add_view_route(router, resource, computed)
    if resource.detail is not None:
        add_detail_route(router, resource, resource.detail, mount.nested)


def add_nested_list_route(router: APIRouter, parent: Resource, view: Nested) -> None:
    """`/parents/{key}/children`: the children's list with one filter fixed by the path."""
    child, name = view.child, parent.path_key.nested
    path = f"/{parent.name}/{{{name}}}/{child.name}"
    spec = child.spec
    flt = spec.filter(view.filter)
    assert flt is not None, f"{child.name} has no filter {view.filter!r}"

    def fixed_by(connection: Connection, value: str) -> tuple[Condition, ...]:
        return (Condition(flt, "exact", [find(connection, parent, value, name).key]),)

    item_columns = tuple(columns(item_model_of(child.page)))  # what `fields=` takes

    async def endpoint(request: Request) -> Response:
        value = check_path_key(parent.path_key, request.path_params[name], name)
        secret = _secret(request)
        kind, params, bom = _format_and_params(request, spec)
        query = parse_query(
            spec, params, secret=secret, fixed=(view.filter,), path=request.url.path,
            columns=item_columns,
        )  # fmt: skip
        facets = _facets(spec, request, kind)
        augment = _augment(spec, request)
        if kind != "json":
            fixed = await in_database(request, lambda connection: fixed_by(connection, value))
            return await _export(request, spec, query, params, kind=kind, path=path,
                                 page_model=child.page, fixed=fixed,
                                 augment=augment, bom=bom)  # fmt: skip

        def work(connection: Connection) -> bytes:
            fixed = fixed_by(connection, value)
            page = run_query(connection, spec, query, secret=secret, fixed=fixed, augment=augment)
            body = page_body(request.url, query, page)
            return to_json(_with_facets(connection, body, spec, [*fixed, *query.filters], facets))

        return RawJSON(await in_database(request, work, **budget_terms(path, query)))

    _register_page_route(
        router, path, endpoint, operation_id=f"list_{parent.noun}_{child.name}",
        summary=view.summary or f"List a {parent.noun}'s {child.name}",
        description=f"The same query language as the top-level list, limited to one"
        f" {parent.noun}.",
        page_model=child.page, errors=(400, 404, 422, 503),
        parameters=[
            path_parameter_doc(parent.path_key, name, f"The {parent.noun}'s key."),
            *openapi_parameters(spec, fixed=(view.filter,)),
            *facets_parameter(spec.facets),
            *augment_parameter(spec),
        ],
    )  # fmt: skip


def add_detail_route(
    router: APIRouter, resource: Resource, detail: Detail, nested: tuple[Nested, ...]
) -> None:
    """`/collection/{key}`: one row, with links to (and, if declared, counts of) the
    resource's nested views."""
    name = resource.path_key.parameter
    views = {view.child.name: view for view in nested}

    async def endpoint(request: Request) -> Response:
        value = check_path_key(resource.path_key, request.path_params[name], name)

        def work(connection: Connection) -> bytes:
            context = DetailContext(views, snapshot_version(connection))
            row = None
            if SLUG_PATTERN_RE.match(value) is not None:  # the common case: one statement
                row = row_by_key(connection, resource.spec, resource.path_key.column, value)
            if row is not None:
                found = Found(row["_id"], value)
            else:
                found = find(connection, resource, value, name)
                (row,) = materialise(connection, resource.spec, [found.id])
            body = resource.spec.serialize(row)
            if detail.more is not None:
                body |= detail.more(connection, found, body, context)
            if views:
                base = f"{API_PREFIX}/{resource.name}/{found.key}"
                if detail.counts:
                    body["counts"] = {
                        child: count_matching(
                            connection, view.child.spec, view_filter(view, found.key)
                        )
                        for child, view in views.items()
                    }
                body["links"] = {child: f"{base}/{child}" for child in views}
            return to_json(body)

        return RawJSON(await in_database(request, work))

    router.add_api_route(
        f"/{resource.name}/{{{name}}}",
        endpoint,
        methods=["GET"],
        operation_id=f"get_{resource.noun}",
        summary=detail.summary,
        description=detail.description,
        dependencies=[Depends(no_query_parameters)],
        **answers(detail.model, 400, 404, 422, 503,
                  parameters=[path_parameter_doc(resource.path_key, name, key_doc(resource))]),
    )  # fmt: skip


def view_filter(view: Nested, key: str) -> list[Condition]:
    flt = view.child.spec.filter(view.filter)
    assert flt is not None
    return [Condition(flt, "exact", [key])]


def nested_rows(
    connection: Connection, view: Nested, found: Found, limit: int
) -> list[dict[str, Any]]:
    """The first rows of a nested view in the child's default order, read and serialized
    as its list reads them (a program's terms are its first metrics)."""
    spec = view.child.spec
    query = parse_query(spec, QueryParams({"limit": str(limit)}), secret="", fixed=(view.filter,))
    page = run_query(connection, spec, query, secret="", fixed=view_filter(view, found.key))
    return page.items

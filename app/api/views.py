"""The routes of nested views (`/places/{place_slug}/rankings`): the parent's key checked and
found by the one rule, the view's parameters checked before a database is chosen, the answer
read in the request's lane and budget. A view whose answer is a list of rows also answers
CSV and NDJSON (app.api.answer_exports)."""

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Connection
from starlette.responses import Response

from . import answer_exports
from .export_rows import columns
from .keys import check_path_key, find, path_parameter_doc
from .reads import in_database
from .resource import Resource, View
from .responses import RawJSON, answers, to_json


def add_view_route(router: APIRouter, parent: Resource, view: View) -> None:
    name = parent.path_key.nested
    names = [] if view.rows is None else columns(view.rows)

    async def endpoint(request: Request) -> Response:
        value = check_path_key(parent.path_key, request.path_params[name], name)
        params, url = request.query_params, str(request.url)
        wanted = answer_exports.Asked("json")
        if view.rows is not None:  # `format` and `bom` are read here, the rest by the view
            wanted, params = answer_exports.asked(request), answer_exports.answer_parameters(params)
        view.check(params)

        def work(connection: Connection) -> Any:
            found = find(connection, parent, value, name)
            answer = view.answer(connection, found, params, url)
            return (found.key, answer["data"]) if wanted.rows else to_json(answer)

        cost = view.cost.format(key=value)
        answer = await in_database(request, work, shape=view.shape(params), cost=cost)
        if not wanted.rows:
            return RawJSON(answer)
        key, rows = answer
        return answer_exports.rows_response(
            request, wanted, name=view.name, columns=names, rows=rows,
            query=[(parent.noun, key), *params.multi_items()],
        )  # fmt: skip

    parameters = [
        path_parameter_doc(parent.path_key, name, f"The {parent.noun}'s key."),
        *view.parameters,
        *(answer_exports.PARAMETERS if view.rows else ()),
    ]
    errors = (400, 404, 422, 503)
    documented = (
        answers(view.model, *errors, description=view.returns, parameters=parameters)
        if view.rows is None
        else answer_exports.row_answers(
            view.model, view.returns, (names, "item"), *errors, parameters=parameters
        )
    )
    router.add_api_route(
        f"/{parent.name}/{{{name}}}/{view.name}",
        endpoint,
        methods=["GET"],
        operation_id=f"get_{parent.noun}_{view.name}",
        summary=view.summary,
        description=view.description,
        **documented,
    )

"""The routes of nested views (`/places/{place_slug}/rankings`): the parent's key checked and
found by the one rule, the view's parameters checked before a database is chosen, the answer
read in the request's lane and budget."""

from fastapi import APIRouter, Request
from sqlalchemy import Connection

from app.api.keys import check_path_key, find, path_parameter_doc
from app.api.reads import in_database
from app.api.resource import Resource, View
from app.api.responses import RawJSON, problem_responses, to_json


def add_view_route(router: APIRouter, parent: Resource, view: View) -> None:
    name = parent.path_key.nested

    async def endpoint(request: Request) -> RawJSON:
        value = check_path_key(parent.path_key, request.path_params[name], name)
        params, url = request.query_params, str(request.url)
        view.check(params)

        def work(connection: Connection) -> bytes:
            found = find(connection, parent, value, name)
            return to_json(view.answer(connection, found, params, url))

        cost = view.cost.format(key=value)
        return RawJSON(await in_database(request, work, shape=view.shape(params), cost=cost))

    router.add_api_route(
        f"/{parent.name}/{{{name}}}/{view.name}",
        endpoint,
        methods=["GET"],
        operation_id=f"get_{parent.noun}_{view.name}",
        summary=view.summary,
        description=view.description,
        response_class=RawJSON,
        responses={
            200: {"model": view.model, "description": view.returns},
            **problem_responses(400, 404, 422, 503),
        },
        openapi_extra={
            "parameters": [
                path_parameter_doc(parent.path_key, name, f"The {parent.noun}'s key."),
                *view.parameters,
            ]
        },
    )

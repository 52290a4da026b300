"""The API documentation: the OpenAPI document, generated once, and the pages that show it,
served entirely from this process.

Swagger UI and ReDoc come from the `fastapi-offline` package's bundled assets (no CDN);
the pages themselves and the Swagger start-up script are ours, so no inline script is
needed and the pages render with no network at all.
"""

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from .api import item_models, vocabularies
from .api.export_twins import document_twins
from .api.exports import FORMAT_PARAMETER, export_content
from .api.response_headers import document_headers
from .api.responses import Problem, document_versions, problem_response_doc
from .api.shapes import SubsetMeta, subset_page_schema
from .paths import API_PREFIX
from .query.openapi import vocabulary_schema

OWN_STATIC = Path(__file__).parent / "static"
VENDOR_STATIC = Path(str(files("fastapi_offline") / "static"))

# The page around either viewer of the OpenAPI document; `head` and `body` are whole lines.
DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="/static/vendor/favicon.png">
{head}</head>
<body>
{body}</body>
</html>
"""
SWAGGER_HEAD = '<link rel="stylesheet" href="/static/vendor/swagger-ui.css">\n'
SWAGGER_BODY = """<div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
"""
REDOC_BODY = """<redoc spec-url="/openapi.json"></redoc>
<script src="/static/vendor/redoc.standalone.js"></script>
"""


def install_docs(app: FastAPI) -> None:
    app.mount("/static/vendor", StaticFiles(directory=VENDOR_STATIC), name="vendor-static")
    app.mount("/static", StaticFiles(directory=OWN_STATIC), name="static")
    swagger = DOCS_PAGE.format(title=f"{app.title}: API docs", head=SWAGGER_HEAD, body=SWAGGER_BODY)
    redoc = DOCS_PAGE.format(title=f"{app.title}: API reference", head="", body=REDOC_BODY)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(swagger)

    @app.get("/redoc", include_in_schema=False)
    def redoc_page() -> HTMLResponse:
        return HTMLResponse(redoc)


def _document_refusals(schema: dict[str, Any]) -> None:
    """Some requests are refused before any endpoint runs; document those on every operation:
    a request the HTTP server cannot parse, or whose target or head is too large (app.protocol),
    one that carries content or accepts no JSON (app.middleware)."""
    for path, item in schema["paths"].items():
        for operation in item.values():
            for status in (400, 406, 414, 415, 431):
                operation["responses"][str(status)] = problem_response_doc(status, path)


def _document_subsets(schema: dict[str, Any]) -> None:
    """What a list returns with `fields=`: `<Item>Fields` items (the item's properties, none
    required, derived from the item schema so the two cannot drift) in an
    `<Item>FieldsPage`. A list's 200 is either page; `meta.fields`, present only in the
    second, tells them apart."""
    components = schema["components"]["schemas"]
    subset_meta = SubsetMeta.model_json_schema(ref_template="#/components/schemas/{model}")
    subset_meta.pop("$defs", None)
    components["SubsetMeta"] = subset_meta
    for model in item_models():
        name = model.__name__
        components[f"{name}Fields"] = {
            "type": "object",
            "title": f"{name}Fields",
            "description": f"A {name} reduced by `fields=` to the properties in `meta.fields`.",
            "properties": components[name]["properties"],
            "additionalProperties": False,
        }
        components[f"{name}FieldsPage"] = subset_page_schema(name)
    for item in schema["paths"].values():
        content = item["get"]["responses"]["200"]["content"]["application/json"]
        page = content["schema"].get("$ref", "").rsplit("/", 1)[-1]
        if page.endswith("Page") and f"{page[:-4]}FieldsPage" in components:
            content["schema"] = {
                "anyOf": [
                    {"$ref": f"#/components/schemas/{page}"},
                    {"$ref": f"#/components/schemas/{page[:-4]}FieldsPage"},
                ]
            }


def _document_vocabularies(schema: dict[str, Any]) -> None:
    """The vocabularies parameters refer to, as shared schemas: those the response models
    use are there already (pydantic's), the others are added the same way."""
    components = schema["components"]["schemas"]
    for vocabulary in vocabularies():
        components.setdefault(vocabulary.__name__, vocabulary_schema(vocabulary))


def _document_exports(schema: dict[str, Any]) -> None:
    """An operation that takes `format=` answers CSV and NDJSON as well as JSON (its 200's
    content says so, with the CSV header when the route gave it), and may refuse an export
    while the worker streams its maximum (429)."""
    for path, item in schema["paths"].items():
        for operation in item.values():
            if FORMAT_PARAMETER not in operation.get("parameters", ()):
                continue
            content = operation["responses"]["200"]["content"]
            for media_type, described in export_content().items():
                content.setdefault(media_type, described)
            operation["responses"]["429"] = problem_response_doc(429, path)


LICENSE = {"name": "Apache-2.0", "identifier": "Apache-2.0"}
CONTACT = {"name": "Innovation Atlas maintainers"}


def install_openapi(app: FastAPI) -> None:
    """Generate the document once, with the Problem schema every error response refers to."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=[{"url": "/", "description": "The server this document came from."}],
                license_info=LICENSE,
                contact=CONTACT,
            )
            # A public, read-only API: no operation takes credentials.
            schema["security"] = []
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(problem.pop("$defs", {}))
            components["Problem"] = problem
            _document_vocabularies(schema)
            _document_subsets(schema)
            _document_refusals(schema)
            document_versions(schema, API_PREFIX)
            _document_exports(schema)
            document_twins(schema)
            document_headers(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

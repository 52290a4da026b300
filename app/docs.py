"""The API documentation pages, served entirely from this process.

Swagger UI and ReDoc come from the `fastapi-offline` package's bundled assets (no CDN);
the pages themselves and the Swagger start-up script are ours, so no inline script is
needed and the pages render with no network at all.
"""

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

OWN_STATIC = Path(__file__).parent / "static"
VENDOR_STATIC = Path(str(files("fastapi_offline") / "static"))

SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: API docs</title>
<link rel="icon" type="image/png" href="/static/vendor/favicon.png">
<link rel="stylesheet" href="/static/vendor/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""

REDOC_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: API reference</title>
<link rel="icon" type="image/png" href="/static/vendor/favicon.png">
</head>
<body>
<redoc spec-url="/openapi.json"></redoc>
<script src="/static/vendor/redoc.standalone.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    app.mount("/static/vendor", StaticFiles(directory=VENDOR_STATIC), name="vendor-static")
    app.mount("/static", StaticFiles(directory=OWN_STATIC), name="static")
    swagger = SWAGGER_PAGE.format(title=app.title)
    redoc = REDOC_PAGE.format(title=app.title)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(swagger)

    @app.get("/redoc", include_in_schema=False)
    def redoc_page() -> HTMLResponse:
        return HTMLResponse(redoc)

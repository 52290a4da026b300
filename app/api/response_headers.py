"""The response headers of every operation, as the document declares them, so that a generated
client exposes them (each declared once, under `components/headers`, and referred to).

Who sets them: app.middleware (the dataset version and node, the validators), app.caching
(`Cache-Control`, `Vary`, surrogate keys), app.api.exports (what an export says about
itself), the problem handlers (`Retry-After` on 429 and 503).
"""

from typing import Any

from .exports import CSV_TYPE, NDJSON_TYPE

HEX = {"type": "string", "pattern": "^[0-9a-f]{64}$|^unversioned$"}
TEXT = {"type": "string"}

# Name: (description, schema).
HEADERS: dict[str, tuple[str, dict[str, Any]]] = {
    "X-Atlas-Dataset-Version": (
        "The dataset version the answer was read from (a `version=` value).", HEX),
    "X-Atlas-Node": ("The database that served the answer, when one did: `primary`,"
                     " `replica-1`, ...", TEXT),
    "Cache-Control": ("How long the answer may be cached; `no-store` for refusals.", TEXT),
    "Vary": ("`Accept` where the answer is negotiated (lists, `/`).", TEXT),
    "Surrogate-Key": ("Cache keys (the collection, the item, the dataset version), for a CDN"
                      " to purge by.", TEXT),
    "Xkey": ("The `Surrogate-Key` keys, for Varnish.", TEXT),
    "Cache-Tag": ("The `Surrogate-Key` keys, comma-separated.", TEXT),
    "ETag": ("The validator of this representation, for `If-None-Match`.", TEXT),
    "Retry-After": ("Seconds to wait before retrying.", {"type": "integer", "minimum": 0}),
    "Link": ("Exports: the JSON page of the same query (`rel=\"alternate\"`) and the page of"
             " each source the rows cite (`rel=\"related\"`).", TEXT),
    "Content-Disposition": ("Exports: the file name the rows are saved under.", TEXT),
    "X-Atlas-Query": ("Exports: the filters and sort the rows answer, as a query string.", TEXT),
    "X-Atlas-Columns": ("CSV exports: the columns, in order.", TEXT),
    "X-Atlas-Sources": ("Exports: the ids of the sources the rows cite, most rows first.", TEXT),
    "X-Atlas-Sources-Complete": ("Exports: `false` when `X-Atlas-Sources` may be missing"
                                 " some.", {"type": "string", "enum": ["true", "false"]}),
    "X-Atlas-Total": ("Exports with `count=true`: the number of rows (`N or more` past the"
                      " count's bound).", TEXT),
}  # fmt: skip
EVERY_ANSWER = ("X-Atlas-Dataset-Version", "X-Atlas-Node", "Cache-Control", "Vary",
                "Surrogate-Key", "Xkey", "Cache-Tag")  # fmt: skip
SUCCESS = ("ETag",)
EXPORT = ("Link", "Content-Disposition", "X-Atlas-Query", "X-Atlas-Columns", "X-Atlas-Sources",
          "X-Atlas-Sources-Complete", "X-Atlas-Total")  # fmt: skip
RETRY = {"429", "503"}


def _component(name: str) -> str:
    return name.replace("-", "")


def header_components() -> dict[str, Any]:
    return {
        _component(name): {"description": description, "schema": schema}
        for name, (description, schema) in HEADERS.items()
    }


def exports_content(response: dict[str, Any]) -> bool:
    return {CSV_TYPE, NDJSON_TYPE} & set(response.get("content", {})) != set()


def document_headers(schema: dict[str, Any]) -> None:
    """Declare on each response of each operation the headers it is sent with."""
    schema["components"]["headers"] = header_components()
    for item in schema["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                names = [*EVERY_ANSWER]
                if status.startswith("2"):
                    names += SUCCESS
                if exports_content(response):
                    names += EXPORT
                if status in RETRY:
                    names.append("Retry-After")
                headers = response.setdefault("headers", {})
                headers.update(
                    (name, {"$ref": f"#/components/headers/{_component(name)}"}) for name in names
                )

"""Constants that the web layer, the caches and the loader all name, in a module that
imports nothing, so that importing one of them pulls in none of the others."""

API_PREFIX = "/api/v1"  # every resource lives below it
# The version a database without a load record reports, in headers, pins and cache keys.
UNVERSIONED = "unversioned"
# A release's file (app.api.downloads): served as it is, in its own media type.
RELEASE_FILE_PATH = r"^/api/v1/releases/[^/]+/download/[^/]+$"
# A list's export twin is at `<list>.<extension>` (app.api.export_twins); the caches key it
# as the list.
EXPORT_EXTENSIONS = ("csv", "ndjson")
# `as_of=`: a date (the end of that day, UTC) or a timestamp with its offset.
AS_OF_PATTERN = (
    r"^\d{4}-\d{2}-\d{2}"
    r"(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$"
)

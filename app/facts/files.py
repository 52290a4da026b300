"""A release's files by name and media type: what the loader writes (app.seeding.bundle)
and the API serves (app.api.downloads) under the same names."""

from pathlib import PurePath

SQLITE_FILE = "atlas.sqlite"
CSV_FILE = "atlas-csv.zip"
PACKAGE_FILE = "datapackage.json"
SUMS_FILE = "SHA256SUMS"  # every other file's SHA-256, as `sha256sum -c` reads it

MEDIA_TYPES = {
    ".sqlite": "application/vnd.sqlite3",
    ".parquet": "application/vnd.apache.parquet",
    ".zip": "application/zip",
    ".json": "application/json",
}


def media_type(name: str) -> str:
    return MEDIA_TYPES.get(PurePath(name).suffix, "text/plain; charset=utf-8")


# Served as written, never compressed on the way (compressed already, or not worth it).
UNCOMPRESSED = tuple(kind for kind in MEDIA_TYPES.values() if kind != "application/json")

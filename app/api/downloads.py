"""A release's files: `/releases/{release}/download` lists them (names, sizes, checksums,
links, from what the loader recorded) and `/releases/{release}/download/{file}` serves one
as it was written at load time (app.seeding.bundle), from the releases directory, with a
strong ETag (its SHA-256), `Range` (206) and HEAD, and without a database query: the
release is found by its folder's name, a unique prefix of 12 or more digits included."""

import hashlib
import re
from pathlib import Path
from typing import Any

from fastapi import Request
from pydantic import Field
from sqlalchemy import Connection, select
from starlette.datastructures import QueryParams
from starlette.responses import FileResponse, Response

from ..asgi import BODILESS
from ..errors import InvalidParameter, ProblemError, shown
from ..facts.files import SUMS_FILE
from ..facts.files import media_type as file_media_type
from ..models import tables as t
from ..paths import API_PREFIX
from ..query.parsing import unknown_parameters
from ..query.statements import fetch_all, slot
from .dispatch import api_router
from .resource import Found, View
from .shapes import Schema

VERSION = re.compile(r"[0-9a-f]{12,64}")
FILE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")


class ReleaseFile(Schema):
    name: str = Field(examples=["observation.parquet"])
    media_type: str = Field(examples=["application/vnd.apache.parquet"])
    bytes: int
    sha256: str
    url: str


class Download(Schema):
    version: str
    files: list[ReleaseFile] = Field(
        description="As written when the release was loaded; empty if the load wrote none."
    )


def _no_parameters(params: QueryParams) -> None:
    names = sorted({key for key, _ in params.multi_items()})
    if names:
        raise unknown_parameters(names, ())


def _files(connection: Connection, found: Found, _params: QueryParams, _url: str) -> dict[str, Any]:
    files = t.release_file
    rows = fetch_all(
        connection, "release files",
        lambda: select(files.c.name, files.c.media_type, files.c.bytes, files.c.sha256)
        .where(files.c.release_id == slot("id")).order_by(files.c.name),
        {"id": found.id},
    )  # fmt: skip
    base = f"{API_PREFIX}/releases/{found.key}/download"
    return {
        "version": found.key,
        "files": [{**dict(row), "url": f"{base}/{row['name']}"} for row in rows],
    }


DOWNLOAD = View(
    name="download",
    model=Download,
    returns="The release's files, with their sizes and checksums.",
    summary="List a release's files",
    description="The release as files, written once when it was loaded: `atlas.sqlite` (every"
    " served table), a Parquet file per table, `atlas-csv.zip` (a CSV per table), each"
    " described by `datapackage.json` (Frictionless: fields, types, units, licences, sources,"
    " checksums), and `SHA256SUMS`. Each `url` serves the file as it is, with its SHA-256 as"
    " a strong ETag, byte ranges (206) and HEAD.",
    parameters=[],
    check=_no_parameters,
    answer=_files,
    shape=lambda _params: ("download",),
    cost="the files of release {key}",
)


def _not_found(name: str, why: str) -> ProblemError:
    return ProblemError(404, "not-found", why, [InvalidParameter(name, why, "path")])


def _folder(releases: Path, value: str) -> Path:
    """The release's folder by its version or a unique prefix of it, read from the
    directory (no query)."""
    if VERSION.fullmatch(value) is None:
        raise _not_found("release", f"no release {shown(value)}")
    exact = releases / value
    if len(value) == 64 and exact.is_dir():
        return exact
    named = [p for p in releases.glob(f"{value}*") if p.is_dir()] if releases.is_dir() else []
    if len(named) != 1:
        raise _not_found("release", f"no release {shown(value)} with files on this server")
    return named[0]


def _checksum(folder: Path, name: str) -> str:
    sums = (folder / SUMS_FILE).read_text(encoding="utf-8")
    for line in sums.splitlines():
        digest, _, listed = line.partition("  ")
        if listed == name:
            return digest
    return hashlib.sha256((folder / SUMS_FILE).read_bytes()).hexdigest()


router = api_router()


@router.get(
    "/releases/{release}/download/{file}",
    include_in_schema=False,  # a file, not JSON: listed with its link by the route above
)
async def download_file(request: Request, release: str, file: str) -> Response:
    if request.query_params:
        raise unknown_parameters(sorted(request.query_params.keys()), ())
    folder = _folder(request.app.state.settings.releases_dir, release)
    if FILE_NAME.fullmatch(file) is None or not (folder / file).is_file():
        raise _not_found("file", f"release {folder.name[:16]} has no file {shown(file)}")
    path = folder / file
    etag = f'"{_checksum(folder, file)}"'
    headers = {"etag": etag, "cache-control": "public, max-age=31536000, immutable"}
    media_type = file_media_type(file)
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if request.scope.get(BODILESS) and "range" not in request.headers:
        size = str(path.stat().st_size)
        return Response(headers={**headers, "content-length": size, "accept-ranges": "bytes"},
                        media_type=media_type)  # fmt: skip
    return FileResponse(path, headers=headers, media_type=media_type, filename=file)


def _matches(header: str | None, etag: str) -> bool:
    if header is None:
        return False
    return any(c.strip().removeprefix("W/") in (etag, "*") for c in header.split(","))

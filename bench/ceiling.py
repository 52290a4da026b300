"""The ceiling: a bare Starlette app that runs Atlas's own SQL through sqlite3 and returns
orjson, with no validation, no ORM, no middleware and no features. It shows what the
framework and Atlas's layers cost on top of the SQL itself.

The statements are recorded at start-up from Atlas itself, running each query on the same
file, so both run exactly the same statements with the same values.
"""

import os
import sqlite3
import threading
from typing import Any

import anyio
import anyio.to_thread
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.queries import PAGE, ceiling_statements

_local = threading.local()


def _connection() -> sqlite3.Connection:
    connection: sqlite3.Connection | None = getattr(_local, "connection", None)
    if connection is None:
        path = os.environ["BENCH_DB"]
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        _local.connection = connection
    return connection


def create_app() -> Starlette:
    statements = ceiling_statements(os.environ["BENCH_DB"])

    def endpoint(request: Request) -> Response:
        replay = statements[request.path_params["name"]]
        body: dict[str, Any] = {}
        order: list[Any] = []  # the page's ids, as the id statements chose them
        for position, (sql, parameters) in enumerate(replay.statements):
            cursor = _connection().execute(sql, parameters)
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchmany(PAGE + 1)]
            if position == replay.page:
                rank = {key: i for i, key in enumerate(order)}
                rows.sort(key=lambda row: rank.get(row.get("_id"), 0))
                body["data"] = rows[:PAGE]
            elif position > replay.page and replay.counted:
                body["total"] = rows[0]["total"]
            elif "_k0" in names or names == ["_id"]:
                order.extend(row["_id"] for row in rows)
        return Response(orjson.dumps(body), media_type="application/json")

    def health(_: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    limiter = anyio.CapacityLimiter(int(os.environ.get("BENCH_SQL_THREADS", "40")))

    async def limited(request: Request) -> Response:
        return await anyio.to_thread.run_sync(endpoint, request, limiter=limiter)

    return Starlette(routes=[Route("/healthz", health), Route("/q/{name}", limited)])

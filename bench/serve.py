"""Serve one of the benchmarked systems with the same uvicorn settings as the others:
`python -m bench.serve atlas|datasette|ceiling --port P --workers N` (database from BENCH_DB,
or DATABASE_URL for Atlas on PostgreSQL). No access log for any of them."""

import argparse
import os
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from app.protocol import BoundedHttpToolsProtocol
from app.server import AtlasConfig

TARGETS = {
    "atlas": "app.main:create_app",
    "datasette": "bench.serve:datasette_app",
    "ceiling": "bench.ceiling:create_app",
}


def datasette_app() -> Any:
    """Datasette on the same file in immutable mode, tuned as a careful user would: no facet
    suggestions (they run extra queries per page), 50-row pages, and the same number of
    SQL threads as the others."""
    from datasette.app import Datasette  # type: ignore[import-untyped]

    path = os.environ["BENCH_DB"]
    settings = {
        "suggest_facets": False,
        "default_page_size": 50,
        "sql_time_limit_ms": 10000,
        "num_sql_threads": int(os.environ.get("BENCH_SQL_THREADS", "3")),
    }
    return Datasette(immutables=[path], settings=settings).app()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("target", choices=sorted(TARGETS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--sql-threads", type=int, default=1, help="0: Atlas's own default")
    args = parser.parse_args()
    if args.sql_threads:  # 0: Atlas's own default for its database
        os.environ["ATLAS_DB_THREADS"] = os.environ["BENCH_SQL_THREADS"] = str(args.sql_threads)
    if args.target == "atlas" and "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{os.environ['BENCH_DB']}"
    config = AtlasConfig(
        TARGETS[args.target],
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        http=BoundedHttpToolsProtocol,  # what `atlas serve` runs, for all three alike
        access_log=False,
        log_level="warning",
        server_header=False,
    )
    server = uvicorn.Server(config)
    if args.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        server.run()


if __name__ == "__main__":
    main()

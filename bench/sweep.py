"""A seeded random sweep of valid list queries, generated from the allow-lists.

Every filter, operator and sort field of the lists below is reachable; values are drawn
from the data itself, as a frontend's dropdowns would offer them. Each request is timed
alone on a warm keep-alive connection; the report gives p50/p99/max and the slowest shapes
with the plans their statements ran with.

    python -m bench.sweep --database-url sqlite:///bench/data/synth-3000.db
"""

import argparse
import random
import sqlite3
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import Engine, text

from app.api.metrics import METRIC_SPEC
from app.api.places import CITY_SPEC
from app.db import build_engine
from app.query import ListSpec
from app.query.operators import OPERATORS, Arity
from app.query.statements import Ran, recording

LIMITS = (10, 50, 200)
LISTS: dict[str, ListSpec] = {"/api/v1/metrics": METRIC_SPEC, "/api/v1/cities": CITY_SPEC}


@dataclass(frozen=True)
class Vocabulary:
    """Values for each filter, read from the database."""

    values: dict[str, list[Any]]

    def pick(self, rng: random.Random, name: str) -> Any:
        return rng.choice(self.values[name])


def vocabulary(engine: Engine) -> Vocabulary:
    def column(sql: str) -> list[Any]:
        with engine.connect() as connection:
            return [row[0] for row in connection.execute(text(sql))]

    cities = "('municipality','prefecture_city','county_city')"
    values = {
        "indicator": column("SELECT code FROM indicator"),
        "category": column("SELECT DISTINCT category FROM indicator"),
        "city": column(f"SELECT slug FROM place WHERE level IN {cities} ORDER BY id LIMIT 300"),
        "province": column("SELECT slug FROM place WHERE level = 'province'"),
        "place": column("SELECT slug FROM place ORDER BY id LIMIT 300"),
        "within": column("SELECT slug FROM place WHERE level IN ('country','province')"),
        "parent": column("SELECT slug FROM place WHERE level IN ('country','province')"),
        # None in synthetic data: a slug that names nothing is refused (422), so these
        # filters are swept with isnull only.
        "cluster": column("SELECT slug FROM cluster"),
        "program": column("SELECT slug FROM program"),
        "subject_kind": ["place", "cluster", "program"],
        "year": list(range(1998, 2027)),
        "value": column("SELECT value FROM observation WHERE id % 9973 = 0"),
        "qualifier": column("SELECT DISTINCT qualifier FROM observation"),
        "derived": [True, False],
        "source": column("SELECT id FROM source"),
        "slug": column(f"SELECT slug FROM place WHERE level IN {cities} ORDER BY id LIMIT 300"),
        "name": column(f"SELECT name FROM place WHERE level IN {cities} ORDER BY id LIMIT 300"),
        "level": ["municipality", "prefecture_city", "county_city"],
        "code": column("SELECT code FROM place WHERE code IS NOT NULL LIMIT 300") or ["110000"],
    }
    return Vocabulary(values)


def _value(rng: random.Random, vocab: Vocabulary, name: str, operator: str) -> str:
    arity = OPERATORS[operator].arity
    if arity is Arity.FLAG:
        return rng.choice(["true", "false"])
    if arity is Arity.TEXT:
        word = str(vocab.pick(rng, name))
        start = rng.randrange(len(word))
        return word[start : start + rng.randint(2, 5)] or word
    if arity is Arity.MANY:
        return ",".join(str(vocab.pick(rng, name)) for _ in range(rng.randint(2, 5)))
    value = vocab.pick(rng, name)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if isinstance(value, date) else str(value)


def shapes(vocab: Vocabulary, count: int, seed: int) -> list[str]:
    """`count` request targets: one to three filters, one or two sort keys, a limit, and
    sometimes count=true; every (filter, operator) and sort field appears at least once."""
    rng = random.Random(seed)
    for spec in LISTS.values():  # a filter added later is swept with its documented example
        for flt in spec.filters:
            vocab.values.setdefault(flt.name, [flt.example if flt.example is not None else "x"])

    def valid(name: str, operator: str) -> bool:
        """A value can be given: the vocabulary has one, or the operator takes a flag."""
        return bool(vocab.values[name]) or OPERATORS[operator].arity is Arity.FLAG

    pairs = [
        (path, flt.name, operator)
        for path, spec in LISTS.items()
        for flt in spec.filters
        for operator in flt.accepted
        if valid(flt.name, operator)
    ]
    targets = []
    for i in range(count):
        path, spec = list(LISTS.items())[0 if i % 5 else 1]
        chosen = [pairs[i]] if i < len(pairs) else []
        if chosen:
            path, spec = chosen[0][0], LISTS[chosen[0][0]]
        params: dict[str, str] = {}
        for _, name, operator in chosen:
            params[name + OPERATORS[operator].suffix] = _value(rng, vocab, name, operator)
        while len(params) < rng.randint(1, 3):
            flt = rng.choice(spec.filters)
            operator = rng.choice(flt.accepted)
            key = flt.name + OPERATORS[operator].suffix
            if valid(flt.name, operator) and not any(k.split("__")[0] == flt.name for k in params):
                params[key] = _value(rng, vocab, flt.name, operator)
        sorts = rng.sample(spec.sorts, k=min(len(spec.sorts), rng.choice((1, 1, 2))))
        if i < len(spec.sorts) * 2:
            sorts = [spec.sorts[(i // 2) % len(spec.sorts)]]
        params["sort"] = ",".join(("-" if rng.random() < 0.5 else "") + s.name for s in sorts)
        for ranked in (s.ranks for s in sorts if s.ranks is not None):  # relevance needs q=
            params.setdefault(ranked, _value(rng, vocab, ranked, "exact"))
        params["limit"] = str(rng.choice(LIMITS))
        if rng.random() < 0.3:
            params["count"] = "true"
        targets.append(f"{path}?{urlencode(params)}")
    return targets


@dataclass(frozen=True)
class Timing:
    target: str
    status: int
    ms: float


def time_all(get: Callable[[str], int], targets: list[str]) -> list[Timing]:
    for target in targets[:20]:
        get(target)  # warm the statement cache and the connection
    timings = []
    for target in targets:
        started = time.perf_counter()
        status = get(target)
        timings.append(Timing(target, status, (time.perf_counter() - started) * 1000))
    return timings


def summary(timings: list[Timing]) -> str:
    ms = sorted(t.ms for t in timings)
    p99 = ms[min(len(ms) - 1, round(0.99 * len(ms)) - 1)]
    statuses: dict[int, int] = {}
    for t in timings:
        statuses[t.status] = statuses.get(t.status, 0) + 1
    return (
        f"{len(ms)} requests: p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms,"
        f" max {ms[-1]:.1f} ms; statuses {dict(sorted(statuses.items()))}"
    )


def explain(engine: Engine, ran: list[Ran]) -> list[str]:
    """The plan each statement ran with: SQLite's EXPLAIN QUERY PLAN, PostgreSQL's
    EXPLAIN (ANALYZE, BUFFERS)."""
    lines = []
    with engine.connect() as connection:
        raw: Any = connection.connection.dbapi_connection
        for statement in ran:
            cursor = raw.cursor()
            if isinstance(raw, sqlite3.Connection):
                cursor.execute("EXPLAIN QUERY PLAN " + statement.sql, statement.parameters)
                plan = [str(row[3]) for row in cursor.fetchall()]
            else:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, statement.parameters)
                plan = [str(row[0]) for row in cursor.fetchall()]
            lines.append(f"    {statement.shape!s:.90}")
            lines.extend(f"      {line}" for line in plan)
    return lines


HEAVY = (  # shapes that read many rows whatever the plan: the starvation check's load
    "/api/v1/metrics?value__ne=1&qualifier__ne=at_least&sort=-period_end,value&limit=500",
    "/api/v1/metrics?year__lte=2014&sort=-period_end,-value&limit=500&count=true",
    "/api/v1/metrics?qualifier__ne=up_to&sort=year,key&limit=500",
    "/api/v1/metrics?value__gt=1&sort=-year,value&limit=500&count=true",
)
CHEAP = "/api/v1/cities?limit=1"


def starvation(base: str, seconds: float = 10.0, heavy_clients: int = 8) -> str:
    """The latency of a cheap request while `heavy_clients` clients keep worst-case
    requests in flight: slow work must not make fast work wait."""
    with httpx.Client(base_url=base, timeout=30) as client:
        for target in HEAVY:  # a refused shape is not load: it must be a valid request
            if (status := client.get(target).status_code) >= 400:
                raise RuntimeError(f"the heavy request {target} was answered {status}")
    stop = threading.Event()
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def hammer(target: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while not stop.is_set():
                status = client.get(target).status_code
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1

    threads = [
        threading.Thread(target=hammer, args=(HEAVY[i % len(HEAVY)],), daemon=True)
        for i in range(heavy_clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # let the heavy shapes reach the slow lane
    cheap: list[float] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            assert client.get(CHEAP).status_code == 200
            cheap.append((time.perf_counter() - started) * 1000)
            time.sleep(0.01)
    stop.set()
    for thread in threads:
        thread.join()
    cheap.sort()
    p99 = cheap[min(len(cheap) - 1, round(0.99 * len(cheap)) - 1)]
    return (
        f"cheap request ({CHEAP}) with {heavy_clients} worst-case requests in flight:"
        f" {len(cheap)} requests, p50 {statistics.median(cheap):.1f} ms, p99 {p99:.1f} ms,"
        f" max {cheap[-1]:.1f} ms; the heavy requests' statuses {dict(sorted(statuses.items()))}"
    )


def full_report(database_url: str, base: str, count: int, seed: int = 20261128) -> str:
    """The sweep over HTTP against a running server, then the starvation check."""
    engine = build_engine(database_url, read_only=True)
    try:
        targets = shapes(vocabulary(engine), count, seed)
        return report(database_url, engine, targets, base) + "\n\n" + starvation(base)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sweep", description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--base", help="a running server to time over HTTP (default: in process)")
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--seed", type=int, default=20261128)
    options = parser.parse_args(argv)
    engine = build_engine(options.database_url, read_only=True)
    targets = shapes(vocabulary(engine), options.count, options.seed)
    print(report(options.database_url, engine, targets, options.base))
    if options.base:
        print(starvation(options.base))


def report(url: str, engine: Engine, targets: list[str], base: str | None) -> str:
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app

    app = create_app(Settings(database_url=url))
    with TestClient(app) as local, httpx.Client(base_url=base or "http://unused") as remote:
        client: Any = remote if base else local
        timings = time_all(lambda target: int(client.get(target).status_code), targets)
        lines = [summary(timings), "", "slowest:"]
        for timing in sorted(timings, key=lambda t: -t.ms)[:10]:
            with recording() as ran:
                local.get(timing.target)
            lines.append(f"  {timing.ms:7.1f} ms {timing.status} {timing.target}")
            lines.extend(explain(engine, ran))
    return "\n".join(lines)


if __name__ == "__main__":
    main()

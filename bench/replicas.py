"""Read replicas on this machine: one primary and two streaming replicas (pg_basebackup -R),
each a real PostgreSQL process, behind `atlas serve`.

Prints three figures: reads/s with 0, 1 and 2 replicas (wrk); the answers to readers while
a replica is stopped and started again (target: only 200s); and cursor walks run while the
primary loads one dataset version after another (target: no page of a walk from another
version than its first page). `python -m bench.replicas` takes about three minutes.
"""

import argparse
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

import httpx

from app.config import Settings
from app.migrate import upgrade_to_head
from app.seeding.reader import read_dataset
from bench.wrk import run_wrk
from harness.loads import SOURCE, Loads
from harness.postgres import PostgresCluster, PostgresReplica
from harness.server import running_server

API = "/api/v1"
READ = f"{API}/places?province=hubei&limit=50&sort=name"
WALK = f"{API}/sources?limit=2&sort=id"  # 7 sources: 4 pages a walk


@dataclass
class Setup:
    primary: PostgresCluster
    replicas: list[PostgresReplica]
    database: str
    loads: Loads

    def serving(self, replicas: int, workers: int = 2) -> AbstractContextManager[str]:
        urls = ",".join(replica.url(self.database) for replica in self.replicas[:replicas])
        return running_server(
            self.primary.url(self.database), workers=workers, ATLAS_REPLICA_URLS=urls,
            ATLAS_VERSION_REFRESH_MS="200", ATLAS_REPLICA_MAX_LAG_MS="2000",
        )  # fmt: skip


@contextmanager
def cluster() -> Iterator[Setup]:
    with PostgresCluster() as primary:
        database = primary.create_database()
        url = primary.url(database)
        upgrade_to_head(url)
        original = read_dataset(Settings().seeds_dir)
        loads = Loads.of(url, original)
        loads.load(original)
        with PostgresReplica(primary) as one, PostgresReplica(primary) as two:
            yield Setup(primary, [one, two], database, loads)


def throughput(setup: Setup, seconds: int) -> None:
    print(f"reads/s, {READ}, 2 workers, wrk 2 threads x 16 connections, {seconds} s:")
    for count in (0, 1, 2):
        with setup.serving(count) as base:
            run_wrk(f"{base}{READ}", seconds=2, connections=16)  # warm the pools
            result = run_wrk(f"{base}{READ}", seconds=seconds, connections=16)
        print(
            f"  {count} replica(s): {result.requests_per_second:8.0f} req/s"
            f"  p50 {result.p50_ms:.1f} ms  p99 {result.p99_ms:.1f} ms  errors {result.errors}"
        )


@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)
    nodes: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: str, node: str | None = None) -> None:
        with self.lock:
            self.statuses[status] += 1
            if node:
                self.nodes[node] += 1


def readers(base: str, tally: Tally, stop: threading.Event, count: int) -> list[threading.Thread]:
    def read() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while not stop.is_set():
                try:
                    response = client.get(READ)
                except httpx.TransportError as error:
                    tally.add(type(error).__name__)
                    continue
                tally.add(str(response.status_code), response.headers.get("x-atlas-node"))

    threads = [threading.Thread(target=read) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


def stop_and_restart(setup: Setup) -> None:
    """8 readers for 12 s; replica-1 stopped (fast shutdown) at 3 s, started at 7 s."""
    tally, stop = Tally(), threading.Event()
    with setup.serving(2) as base:
        threads = readers(base, tally, stop, 8)
        time.sleep(3)
        down = time.monotonic()
        setup.replicas[0].pause()
        time.sleep(4)
        setup.replicas[0].resume()
        back = time.monotonic() - down
        time.sleep(5)
        stop.set()
        for thread in threads:
            thread.join()
    print("readers through replica-1's stop and restart (8 clients, 12 s, 2 workers):")
    print(f"  answers {dict(tally.statuses)}  by node {dict(tally.nodes)}")
    print(f"  replica-1 down for {back:.1f} s; 500s: {tally.statuses['500']}")


@dataclass
class Walks:
    complete: int = 0
    refused: int = 0  # 410 (its release not kept) or 409: restarted from the first page
    mixed: int = 0  # a page from another version than the walk's first: must stay 0
    pages: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


def walk_once(client: httpx.Client, loads: Loads, walks: Walks) -> None:
    url: str | None = WALK
    version = None
    mixed = False
    while url:
        response = client.get(url)
        if response.status_code in (409, 410):
            with walks.lock:
                walks.refused += 1
            return
        if response.status_code != 200:
            with walks.lock:
                walks.failures[str(response.status_code)] += 1
            return
        page_version = response.headers["x-atlas-dataset-version"]
        version = version or page_version
        body = response.json()
        titles = [item["title"] for item in body["data"] if item["id"] == SOURCE]
        mixed |= page_version != version or any(t != loads.title(version) for t in titles)
        with walks.lock:
            walks.pages += 1
        url = body["links"]["next"]
    with walks.lock:
        walks.complete += 1
        walks.mixed += mixed


def walks_during_loads(setup: Setup, target: int) -> None:
    walks, stop = Walks(), threading.Event()
    loaded: list[float] = []

    def keep_loading() -> None:
        datasets = [setup.loads.changed, setup.loads.original]
        while not stop.is_set():
            started = time.monotonic()
            setup.loads.load(datasets[len(loaded) % 2])
            loaded.append(time.monotonic() - started)
            time.sleep(0.3)

    with setup.serving(2) as base:

        def walker() -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                while walks.complete + walks.refused < target and not walks.failures:
                    walk_once(client, setup.loads, walks)

        loader = threading.Thread(target=keep_loading)
        loader.start()
        started = time.monotonic()
        threads = [threading.Thread(target=walker) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.monotonic() - started
        stop.set()
        loader.join()
    print(f"cursor walks ({WALK}, 4 pages) by 6 clients while the primary loads in turn:")
    print(
        f"  {walks.complete + walks.refused} walks in {took:.0f} s during {len(loaded)} loads"
        f" ({sum(loaded) / max(1, len(loaded)):.1f} s each): {walks.complete} complete,"
        f" {walks.refused} refused with 409/410 (restart), {walks.mixed} mixed-version,"
        f" {walks.pages} pages, failures {dict(walks.failures) or 0}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8, help="wrk run per replica count")
    parser.add_argument("--walks", type=int, default=1000, help="cursor walks during loads")
    args = parser.parse_args(argv)
    with cluster() as setup:
        throughput(setup, args.seconds)
        stop_and_restart(setup)
        walks_during_loads(setup, args.walks)


if __name__ == "__main__":
    main()

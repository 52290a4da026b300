"""What the tests and the benchmark both start and drive: a throwaway PostgreSQL cluster,
`atlas serve` processes, traffic and abusive clients, a SQLite writer to kill mid-write,
a dump of a database's state, and the seeds loaded the one way `atlas load` loads them.

The tests and the benchmark import these from here (the tests' fixtures, built on them,
are in tests/conftest.py); nothing here imports the tests.
"""

from app.config import Settings
from app.seeding.pipeline import Seeded, seed
from harness.abuse import (
    HALF_HEAD,
    Held,
    Prober,
    ProbeSummary,
    Watcher,
    normal_request,
    open_many,
    summarise,
)
from harness.postgres import PostgresCluster, free_port
from harness.server import (
    Serving,
    answer_of,
    requests_in_flight,
    running_server,
    serve_once,
    server_process,
    serving,
)
from harness.sqlite_writer import journal_of, kill_spilling_writer
from harness.state import dump
from harness.traffic import CLIENTS, Tally, traffic, watch_until_quiet


def load_seeds(url: str) -> Seeded:
    """Migrate the database at `url` and load the project's seeds, checking every locator
    against the raw documents when they are at hand."""
    settings = Settings(database_url=url)
    return seed(url, settings.seeds_dir, settings.documents_dir)


__all__ = [
    "CLIENTS",
    "HALF_HEAD",
    "Held",
    "PostgresCluster",
    "ProbeSummary",
    "Prober",
    "Serving",
    "Tally",
    "Watcher",
    "answer_of",
    "dump",
    "free_port",
    "journal_of",
    "kill_spilling_writer",
    "load_seeds",
    "normal_request",
    "open_many",
    "requests_in_flight",
    "running_server",
    "serve_once",
    "server_process",
    "serving",
    "summarise",
    "traffic",
    "watch_until_quiet",
]

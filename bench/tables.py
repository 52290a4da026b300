"""The official tables' targets, printed: how long a full load takes on each engine (fresh,
then again with nothing changed), how many values come from tables, how dense the
province series are, which prefecture-level cities lack a census year, and how many
stated values have a verified locator.

    python -m bench.tables [--no-postgres]
"""

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from app.config import PROJECT_ROOT
from app.seeding.pipeline import seed
from harness.postgres import PostgresCluster
from harness.state import rows

SEEDS = PROJECT_ROOT / "seeds"
DOCUMENTS = PROJECT_ROOT.parent / "shared" / "seeds"

DENSITY = """
SELECT p.slug, o.indicator_id, count(DISTINCT o.year) FROM observation o
JOIN place p ON p.id = o.place_id
WHERE p.level IN ('province', 'municipality') AND o.locator_row IS NOT NULL
GROUP BY p.slug, o.indicator_id
"""
WITHOUT_CENSUS = """
SELECT p.slug FROM place p WHERE p.level IN ('prefecture_city', 'prefecture')
AND (SELECT count(DISTINCT o.year) FROM observation o JOIN indicator i ON i.id = o.indicator_id
     WHERE o.place_id = p.id AND i.code = 'population_resident' AND o.year IN (2010, 2020)) < 2
"""
LOCATED = """
SELECT count(*), sum(CASE WHEN locator_row IS NOT NULL OR locator_start IS NOT NULL
                          THEN 1 ELSE 0 END)
FROM observation WHERE NOT derived
"""


def timed_loads(name: str, url: str) -> None:
    documents = DOCUMENTS if DOCUMENTS.is_dir() else None
    started = time.perf_counter()
    seeded = seed(url, SEEDS, documents)
    fresh = time.perf_counter() - started
    started = time.perf_counter()
    again = seed(url, SEEDS, documents)
    second = time.perf_counter() - started
    print(f"{name}: full load {fresh:.1f} s (target under 30 s on SQLite); second load"
          f" {second:.1f} s, changed: {again.report.changed}")  # fmt: skip
    by_source = seeded.report.values_by_source
    print(f"{name}: values by source: {dict(sorted(by_source.items()))}")
    print(
        f"{name}: {sum(by_source.values())} values in all, {seeded.verification.cells} read"
        " from cells (target at least 20,000)"
    )


def coverage(url: str) -> None:
    dense: dict[str, int] = defaultdict(int)
    for slug, _, years in rows(url, DENSITY):
        dense[str(slug)] += int(years) >= 10
    print(
        f"provinces with table series: {len(dense)} (target 31); indicators with 10+ years:"
        f" fewest {min(dense.values())}, most {max(dense.values())} (target at least 10)"
    )
    missing = [str(slug) for (slug,) in rows(url, WITHOUT_CENSUS)]
    print(f"prefecture-level divisions without both censuses: {len(missing)} {missing}")
    stated, located = rows(url, LOCATED)[0]
    print(f"stated values with a verified span or cell: {located} of {stated}"
          f" ({100 * int(located) / int(stated):.1f}%)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'tables.db'}"
        timed_loads("sqlite", url)
        coverage(url)
    if not args.no_postgres:
        with PostgresCluster() as cluster:
            timed_loads("postgresql", cluster.url(cluster.create_database()))


if __name__ == "__main__":
    main()

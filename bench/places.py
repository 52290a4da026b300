"""Are the place lists as fast at 3,249 places as at 25? python -m bench.places.

Loads the seeds twice into SQLite databases of their own, once with China's divisions and
once with the curated places only (the seeds without the `china-divisions` source), and
times the place and city lists in process (no HTTP), printing the rows returned, the
median and the 95th percentile per URL for each, and the load time.
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import yaml

from app.config import PROJECT_ROOT, Settings
from app.db import build_engine
from app.migrate import upgrade_to_head
from app.seeding.divisions import DIVISIONS_SOURCE
from app.seeding.loader import load_dataset
from app.seeding.reader import read_dataset

warnings.filterwarnings("ignore", message=".*httpx.*starlette.testclient.*")
from fastapi.testclient import TestClient  # noqa: E402

from app.main import create_app  # noqa: E402

URLS = (
    "/api/v1/places",
    "/api/v1/places?sort=-name&limit=100",
    "/api/v1/cities?province=hubei",
    "/api/v1/cities?name__contains=zhou&limit=100",
    "/api/v1/places?within=china&level=county&limit=200",
    "/api/v1/places?code=420281",
    "/api/v1/places/china",
    "/api/v1/cities/huangshi",
)


def _curated_only(seeds: Path, workdir: Path) -> Path:
    copy = workdir / "seeds-curated"
    shutil.copytree(seeds, copy)
    sources_file = copy / "sources.yaml"
    data = yaml.safe_load(sources_file.read_text(encoding="utf-8"))
    data["sources"] = [s for s in data["sources"] if s["id"] != DIVISIONS_SOURCE]
    sources_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return copy


def _load(seeds: Path, url: str) -> tuple[float, int]:
    upgrade_to_head(url)
    engine = build_engine(url)
    try:
        started = time.perf_counter()
        report = load_dataset(engine, read_dataset(seeds))
        return time.perf_counter() - started, report.tables["place"].total
    finally:
        engine.dispose()


def _time(client: TestClient, url: str, rounds: int) -> tuple[float, float, int]:
    body = client.get(url).json()  # also warms the statement cache
    rows = len(body["data"]) if "data" in body else 1 + len(body.get("children", []))
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)
    seeds = PROJECT_ROOT / "seeds"
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        setups = {"curated": _curated_only(seeds, workdir), "divisions": seeds}
        results: dict[str, dict[str, tuple[float, float, int]]] = {}
        for name, directory in setups.items():
            url = f"sqlite:///{workdir / f'{name}.db'}"
            seconds, places = _load(directory, url)
            print(f"{name}: {places} places loaded in {seconds:.2f} s")
            with TestClient(create_app(Settings(database_url=url))) as client:
                results[name] = {u: _time(client, u, args.rounds) for u in URLS}
    print(f"{'url':<52} {'25 places: rows, p50/p95 ms':>28} {'3,249 places: rows, p50/p95 ms':>32}")
    for url in URLS:
        small, large = results["curated"][url], results["divisions"][url]
        print(
            f"{url:<52} {small[2]:>8} {small[0]:>8.2f} / {small[1]:<7.2f}"
            f" {large[2]:>12} {large[0]:>8.2f} / {large[1]:<7.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The shared cache at work: nginx running deploy/nginx-cache.conf in front of two
`atlas serve` processes on one SQLite file (the seeds), driven by wrk.

    python -m bench.cache                 # 10 s mixed run, 5 s hit run, one load
    python -m bench.cache --seconds 5     # shorter

Three figures, printed, nothing asserted:
1. hit ratio on a mixed workload: lists, details, filtered pages and cursor pages drawn from
   the API's own answers, popular ones often (a Zipf law, as request logs are) and a tail
   of one-off filtered pages; counted from X-Cache-Status by a wrk Lua hook;
2. latency of a hit: the same URLs once cached (p50 / p99 from wrk);
3. how long after `atlas load` returns the proxy serves the new data, against the bound
   docs/operations.md documents (max-age, plus nginx's one-second clock, plus the API's version
   refresh, plus one revalidation).
"""

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.config import PROJECT_ROOT
from bench.wrk import WrkResult, read_report, wrk_output
from harness.nginx import caching_proxy
from harness.server import serving

SEEDS = PROJECT_ROOT / "seeds"
SEQUENCE = 50_000  # requests drawn; wrk walks them in order, each thread from its own offset
TAIL_SHARE = 0.05  # one-off pages: a filter and page size nobody else asks for
FROM_CACHE = ("HIT", "STALE", "UPDATING")  # answered without the API

LUA = """
local paths = {%s}
local n = 0
cache = {}
local threads = {}

function setup(thread)
  thread:set("offset", #threads * %d)
  table.insert(threads, thread)
end

function request()
  n = n + 1
  return wrk.format("GET", paths[(((offset or 0) + n) %% #paths) + 1])
end

function response(status, headers, body)
  local state = headers["X-Cache-Status"] or headers["x-cache-status"] or "NONE"
  local key = state .. "/" .. status
  cache[key] = (cache[key] or 0) + 1
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for key, count in pairs(thread:get("cache")) do
      io.write(string.format("cache %%s %%d\\n", key, count))
    end
  end
end
"""


@dataclass(frozen=True)
class Run:
    label: str
    report: WrkResult
    statuses: dict[str, int]  # "HIT/200": count

    def share(self, states: tuple[str, ...]) -> float:
        total = sum(self.statuses.values())
        hits = sum(n for key, n in self.statuses.items() if key.split("/")[0] in states)
        return hits / total if total else 0.0


def load(database_url: str, seeds: Path) -> float:
    """`atlas load` as a deployment runs it; returns the monotonic time it returned."""
    loaded = subprocess.run(
        [sys.executable, "-m", "app", "load", "--seeds", str(seeds), "--no-verify"],
        env={**os.environ, "DATABASE_URL": database_url}, cwd=PROJECT_ROOT,
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if loaded.returncode != 0:
        raise RuntimeError(f"atlas load failed:\n{loaded.stderr[-3000:]}")
    return time.monotonic()


def workload(api: str) -> list[str]:
    """Distinct URLs a dashboard or a notebook asks for, read off the API itself."""
    paths = [
        "/api/v1", "/api/v1/indicators", "/api/v1/sources?limit=50", "/api/v1/clusters",
        "/api/v1/programs", "/api/v1/organizations?limit=50", "/api/v1/relations?limit=20",
        "/api/v1/cities?sort=name&limit=50", "/api/v1/metrics?limit=50&sort=-year",
        "/api/v1/search?q=hefei", "/api/v1/search?q=%E5%90%88%E8%82%A5",
        "/api/v1/places?province=hubei&facets=level", "/api/v1/programs?covers=hubei",
    ]  # fmt: skip
    with httpx.Client(base_url=api, timeout=60) as http:
        provinces = http.get("/api/v1/places?level=province&limit=40").json()["data"]
        for province in provinces:
            paths.append(f"/api/v1/places?province={province['slug']}&sort=name&limit=25")
            paths.append(f"/api/v1/places/{province['slug']}")
        for kind in ("cities", "clusters", "programs", "organizations", "indicators"):
            key = "code" if kind == "indicators" else "slug"
            for item in http.get(f"/api/v1/{kind}?limit=40").json()["data"]:
                paths.append(f"/api/v1/{kind}/{item[key]}")
        for city in http.get("/api/v1/cities?limit=15").json()["data"]:
            paths.append(f"/api/v1/cities/{city['slug']}/metrics?limit=25")
            paths.append(f"/api/v1/cities/{city['slug']}/clusters")
        for start in ("/api/v1/places?sort=name&limit=50", "/api/v1/metrics?limit=50"):
            page = start
            for _ in range(5):  # a few cursor walks, as clients page through lists
                following = http.get(page).json()["links"].get("next")
                if not following:
                    break
                page = httpx.URL(following).raw_path.decode()
                paths.append(page)
        bad = [p for p in paths if http.get(p).status_code != 200]
    if bad:
        raise RuntimeError(f"not answered 200 before the run: {bad[:5]}")
    return paths


def sequence(paths: list[str], provinces: list[str], rng: random.Random) -> list[str]:
    """Draws by popularity (rank r weighs 1/r) plus a tail of one-off filtered pages."""
    weights = [1 / rank for rank in range(1, len(paths) + 1)]
    drawn = rng.choices(paths, weights=weights, k=SEQUENCE)
    for index in range(0, SEQUENCE, round(1 / TAIL_SHARE)):
        province, limit = rng.choice(provinces), rng.randint(1, 200)
        drawn[index] = f"/api/v1/places?province={province}&limit={limit}"
    return drawn


def drive(
    base: str, paths: list[str], *, label: str, seconds: int, connections: int, threads: int = 2
) -> Run:
    quoted = ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % (quoted, len(paths) // 2))
    try:
        output = wrk_output(
            base + "/", seconds=seconds, connections=connections, threads=threads,
            script=script.name,
        )  # fmt: skip
    finally:
        Path(script.name).unlink()
    statuses: dict[str, int] = {}
    for key, count in re.findall(r"^cache (\S+) (\d+)$", output, re.M):
        statuses[key] = statuses.get(key, 0) + int(count)
    return Run(label, read_report(output), statuses)


def visible_after(proxy: str, database_url: str, seeds: Path, name: str) -> float:
    """Change Hefei's English name in a copy of the seeds, load it, and poll the proxy
    until it serves the new name: seconds from the load's return."""
    places = seeds / "places.yaml"
    text = re.sub(r"name: Hefei[^,]*,", f"name: {name},", places.read_text(), count=1)
    places.write_text(text)
    with httpx.Client(base_url=proxy, timeout=30) as http:
        http.get("/api/v1/places/hefei")
        if http.get("/api/v1/places/hefei").headers["x-cache-status"] != "HIT":
            raise RuntimeError("the page timed was not cached before the load")
        done = load(database_url, seeds)
        while http.get("/api/v1/places/hefei").json()["name"] != name:
            if time.monotonic() - done > 600:
                raise RuntimeError("the load was not served within 600 s")
            time.sleep(0.05)
    return time.monotonic() - done


def report(runs: list[Run], max_age: int, visible: list[float], distinct: int) -> str:
    lines = [
        f"nginx proxy_cache (deploy/nginx-cache.conf) in front of 2 x `atlas serve` on"
        f" SQLite; max-age {max_age} s; {distinct} distinct URLs plus a tail of one-off pages",
        "",
        "| run | requests | req/s | p50 ms | p99 ms | from cache | revalidated (304) | statuses |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        w = run.report
        statuses = ", ".join(f"{k}: {n:,}" for k, n in sorted(run.statuses.items()))
        lines.append(
            f"| {run.label} | {w.requests:,} | {w.requests_per_second:,.0f}"
            f" | {w.p50_ms:.2f} | {w.p99_ms:.2f} | {run.share(FROM_CACHE):.1%}"
            f" | {run.share(('REVALIDATED',)):.1%} | {statuses} |"
        )
    shown = ", ".join(f"{v:.2f} s" for v in visible)
    lines += [
        "",
        f"A load served through the cache after: {shown}"
        f" (documented bound: max-age + 1 s of nginx's clock + 1 s of version refresh"
        f" = {max_age + 2} s, plus a round trip)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cache",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=int, default=10, help="length of the mixed run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--max-age", type=int, default=10, help="ATLAS_CACHE_MAX_AGE")
    parser.add_argument("--loads", type=int, default=2, help="loads timed for visibility")
    args = parser.parse_args(argv)
    hit_seconds = max(3, args.seconds // 2)
    env = {"ATLAS_CACHE_MAX_AGE": str(args.max_age), "ATLAS_CURSOR_SECRET": "bench-cache"}
    with tempfile.TemporaryDirectory(prefix="atlas-bench-cache-") as workdir:
        tmp = Path(workdir)
        seeds = tmp / "seeds"
        shutil.copytree(SEEDS, seeds)
        url = f"sqlite:///{tmp / 'atlas.db'}"
        load(url, seeds)
        with (
            serving(url, env=env, log_path=tmp / "api-1.log") as first,
            serving(url, env=env, log_path=tmp / "api-2.log") as second,
            caching_proxy(
                [first.address[1], second.address[1]], tmp / "nginx", client_rate="1000000r/s"
            ) as proxy,
        ):
            paths = workload(first.base)
            provinces = [p.split("province=")[1].split("&")[0] for p in paths if "province=" in p]
            drawn = sequence(paths, provinces, random.Random(17))
            mixed = drive(proxy, drawn, label="mixed, cold cache", seconds=args.seconds,
                          connections=args.connections)  # fmt: skip
            for path in paths:  # every distinct URL freshly cached, then only hits
                httpx.get(proxy + path, timeout=60)
            hot = [p for p in drawn if p in set(paths)]
            hits = [
                drive(
                    proxy,
                    hot,
                    label=f"cached URLs, {n} connection(s)",
                    seconds=hit_seconds,
                    connections=n,
                    threads=min(n, 2),
                )
                for n in (1, args.connections)
            ]
            visible = [
                visible_after(proxy, url, seeds, f"Hefei {n}") for n in range(1, args.loads + 1)
            ]
    print(report([mixed, *hits], args.max_age, visible, len(paths)))


if __name__ == "__main__":
    main()

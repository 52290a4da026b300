"""Check the committed table files against each other, independently of how they were built.

Reads only seeds/ and the gazetteer, so it also catches a hand edit that the build would
not have made: a fact whose locator points at another cell, a value not equal to the
stated figure times its unit's factor, a repeated key, an unknown place or indicator, or
a CSV whose bytes no longer match the manifest's sha256. Prints the coverage figures.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import sqlite3
import sys
from collections import defaultdict
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spec import UNITS

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gazetteer", type=Path, required=True)
    args = parser.parse_args()
    con = sqlite3.connect(f"file:{args.gazetteer}?mode=ro", uri=True)
    levels = dict(con.execute("select slug, level from place").fetchall())
    con.close()
    indicators = {
        i["code"]: i["unit"]
        for i in yaml.safe_load((SEEDS / "indicators.yaml").read_text("utf-8"))["indicators"]
    }
    manifest = yaml.safe_load((SEEDS / "tables.yaml").read_text("utf-8"))["tables"]
    problems: list[str] = []
    keys: set[str] = set()
    years_by: dict[tuple[str, str], set[str]] = defaultdict(set)  # (place, indicator)
    total = 0
    for entry in manifest:
        data = (SEEDS / "tables" / entry["file"]).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            problems.append(f"{entry['file']}: sha256 differs from the manifest")
        if data.startswith(b"\xef\xbb\xbf") or b"\r" in data:
            problems.append(f"{entry['file']}: BOM or CR in the file")
        grid = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
        raw = (SEEDS / "tables" / entry["facts"]).read_text("utf-8")
        facts = list(csv.DictReader(io.StringIO(raw, newline="")))
        if [f["key"] for f in facts] != sorted(f["key"] for f in facts):
            problems.append(f"{entry['facts']}: not sorted by key")
        for fact in facts:
            total += 1
            key = fact["key"]
            if key in keys or len(key) > 120:
                problems.append(f"{key}: repeated or longer than 120")
            keys.add(key)
            row, col = (int(n) for n in fact["at"].removeprefix("cell=").split(","))
            if grid[row - 1][col - 1] != fact["stated"]:
                problems.append(f"{key}: cell {row},{col} holds {grid[row - 1][col - 1]!r}")
            if grid[row - 1][2] != fact["period"]:
                problems.append(f"{key}: row {row} is year {grid[row - 1][2]}")
            factor, unit = UNITS[fact["unit_stated"]]
            expected = float(fact["stated"]) * float(factor)
            if abs(float(fact["value"]) - expected) > 1e-9 * max(abs(expected), 1e-300):
                problems.append(f"{key}: value {fact['value']} is not {expected}")
            if indicators.get(fact["indicator"]) != unit:
                problems.append(f"{key}: indicator unknown or not in {unit}")
            if fact["place"] not in levels:
                problems.append(f"{key}: place {fact['place']} not in the gazetteer")
            years_by[(fact["place"], fact["indicator"])].add(fact["period"])
    provinces = sorted({p for p, _ in years_by if levels[p] in ("province", "municipality")})
    rich = {
        p: sum(1 for (q, _), ys in years_by.items() if q == p and len(ys) >= 10) for p in provinces
    }
    cities = {
        p
        for (p, ind), ys in years_by.items()
        if ind == "population_resident" and {"2010", "2020"} <= ys
    }
    print(f"{total} facts, {len(keys)} keys, {len(manifest)} tables")
    print(
        f"{len(provinces)} province-level divisions; indicators with >=10 years each:"
        f" min {min(rich.values())}, max {max(rich.values())}"
    )
    print(f"{len(cities)} places with resident population for both 2010 and 2020")
    for problem in problems[:50]:
        print("problem:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

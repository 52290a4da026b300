"""The benchmark itself stays runnable: a quick run on small data must find the three
systems returning the same rows, serve without errors, and write its report.
(It measures nothing here; speed is reported by `make bench`, never asserted.)"""

import subprocess
import sys
from pathlib import Path

from app.config import PROJECT_ROOT


def run_quick(module: str, *args: str | Path, timeout: float) -> str:
    """Run `python -m module --quick` from the checkout, which must succeed; its stderr."""
    result = subprocess.run(
        [sys.executable, "-m", module, "--quick", *map(str, args)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


def in_folders(tmp_path: Path) -> tuple[str | Path, ...]:
    """The arguments that keep a run's data and its report in the test's own folders."""
    return ("--data", tmp_path / "data", "--output", tmp_path / "results")


def report_text(folder: Path, pattern: str) -> str:
    """The one report a run wrote in `folder`."""
    (report,) = folder.glob(pattern)
    return report.read_text(encoding="utf-8")


def test_quick_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    stderr = run_quick("bench", "--no-postgres", *in_folders(tmp_path), timeout=600)
    assert "same rows from all three" in stderr
    text = report_text(tmp_path / "results", "bench-*.md")
    for query in ("q1", "q2", "q3", "q4", "q5", "q6"):
        assert f"| {query}:" in text
    assert "Errors during the runs: {'atlas': 0, 'datasette': 0, 'ceiling': 0}" in text


def test_quick_load_run_reports_no_errors(tmp_path: Path) -> None:
    """The load run stays runnable and, on both engines, every answer under load is a 200 or
    a 503 with Retry-After (how many 503s depends on the machine, so that is not asserted)."""
    run_quick("bench.load", *in_folders(tmp_path), timeout=900)
    text = report_text(tmp_path / "results", "load-*.md")
    summary = [line for line in text.splitlines() if line[:2] == "- "]
    runs = ["SQLite", "SQLite, exhausted", "PostgreSQL", "PostgreSQL, exhausted"]
    assert [line[2:].split(":")[0] for line in summary] == runs
    for line in summary:
        assert ": 0 errors" in line, line
        assert "(0 without Retry-After)" in line, line


def test_quick_abuse_run_writes_its_report(tmp_path: Path) -> None:
    """The connection-holding benchmark stays runnable; its figures are not asserted."""
    run_quick("bench.abuse", *in_folders(tmp_path), timeout=300)
    text = report_text(tmp_path / "results", "abuse-*.md")
    assert "| soft 1,024, hard" in text
    assert "| soft and hard 1,024 |" in text
    assert "Slow readers: 100 clients" in text


def test_quick_releases_run_keeps_every_release(tmp_path: Path) -> None:
    """The cost of keeping past releases stays measurable: on one small table, on both
    engines, every load makes a release and keeps it, and the oldest kept is answered from
    its archive (the sizes and timings are not asserted)."""
    run_quick("bench.releases", "--output", tmp_path, timeout=600)
    text = report_text(tmp_path, "releases-*.md")
    assert "FAILED" not in text
    assert "Note:" not in text  # no load without a release, a new version, or its archive
    for engine in ("SQLite", "PostgreSQL"):
        section = text.split(f"## {engine}\n")[1].split("\n## ")[0]
        assert "(database + archives) / one release:" in section
        assert "| 3, " in section  # three archives after the third load
        assert "(c) version=<oldest kept>: release-" in section

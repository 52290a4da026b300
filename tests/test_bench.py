"""The benchmark itself stays runnable: a quick run on small data must find the three
systems returning the same rows, serve without errors, and write its report.
(It measures nothing here; speed is reported by `make bench`, never asserted.)"""

import subprocess
import sys
from pathlib import Path

from app.config import PROJECT_ROOT


def test_quick_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--no-postgres",
         "--data", str(tmp_path / "data"), "--output", str(tmp_path / "results")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "same rows from all three" in result.stderr
    (report,) = (tmp_path / "results").glob("bench-*.md")
    text = report.read_text(encoding="utf-8")
    for query in ("q1", "q2", "q3", "q4", "q5", "q6"):
        assert f"| {query}:" in text
    assert "Errors during the runs: {'atlas': 0, 'datasette': 0, 'ceiling': 0}" in text


def test_quick_load_run_reports_no_errors(tmp_path: Path) -> None:
    """The load run stays runnable and, on both engines, every answer under load is a 200 or
    a 503 with Retry-After (how many 503s depends on the machine, so that is not asserted)."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.load", "--quick",
         "--data", str(tmp_path / "data"), "--output", str(tmp_path / "results")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    (report,) = (tmp_path / "results").glob("load-*.md")
    summary = [line for line in report.read_text(encoding="utf-8").splitlines() if line[:2] == "- "]
    runs = ["SQLite", "SQLite, exhausted", "PostgreSQL", "PostgreSQL, exhausted"]
    assert [line[2:].split(":")[0] for line in summary] == runs
    for line in summary:
        assert ": 0 errors" in line, line
        assert "(0 without Retry-After)" in line, line


def test_quick_abuse_run_writes_its_report(tmp_path: Path) -> None:
    """The connection-holding benchmark stays runnable; its figures are not asserted."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.abuse", "--quick",
         "--data", str(tmp_path / "data"), "--output", str(tmp_path / "results")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    (report,) = (tmp_path / "results").glob("abuse-*.md")
    text = report.read_text(encoding="utf-8")
    assert "| soft 1,024, hard" in text
    assert "| soft and hard 1,024 |" in text
    assert "Slow readers: 100 clients" in text


def test_quick_releases_run_keeps_every_release(tmp_path: Path) -> None:
    """The cost of keeping past releases stays measurable: on one small table, on both
    engines, every load makes a release and keeps it, and the oldest kept is answered from
    its archive (the sizes and timings are not asserted)."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.releases", "--quick", "--output", str(tmp_path)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    (report,) = tmp_path.glob("releases-*.md")
    text = report.read_text(encoding="utf-8")
    assert "FAILED" not in text
    assert "Note:" not in text  # no load without a release, a new version, or its archive
    for engine in ("SQLite", "PostgreSQL"):
        section = text.split(f"## {engine}\n")[1].split("\n## ")[0]
        assert "(database + archives) / one release:" in section
        assert "| 3, " in section  # three archives after the third load
        assert "(c) version=<oldest kept>: release-" in section

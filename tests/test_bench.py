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

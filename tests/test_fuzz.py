"""schemathesis, a tool we did not write, against a real server on each engine: every
operation in the OpenAPI document, every check (no 5xx, responses match the documented
schema and status codes, schema-valid requests accepted, invalid ones refused)."""

import re
import subprocess
import sys
from pathlib import Path

from app.config import PROJECT_ROOT
from harness.server import running_server
from tests.conftest import FIGURES, Backend


def test_schemathesis_finds_nothing(reader_url: str, backend: Backend, tmp_path: Path) -> None:
    schemathesis = Path(sys.executable).parent / "schemathesis"
    with running_server(reader_url) as base:
        # Run from the test's own directory: schemathesis keeps a cache of the failures it
        # finds in its working directory, which must not be the (tracked) project.
        result = subprocess.run(
            [str(schemathesis), "--config-file", str(PROJECT_ROOT / "schemathesis.toml"),
             "run", f"{base}/openapi.json", "--checks", "all",
             "--max-examples", "5", "--suppress-health-check", "all", "--seed", "20240418",
             "--report", "junit", "--report-dir", str(tmp_path)],
            cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
    summary = result.stdout[-4000:]
    assert result.returncode == 0, summary
    generated = re.search(r"(\d+) generated, (\d+) passed", summary)
    assert generated is not None, summary
    assert generated.group(1) == generated.group(2)
    assert int(generated.group(1)) > 1000  # every operation, every phase
    FIGURES.append(f"schemathesis on {backend.name}: {generated.group(0)}")

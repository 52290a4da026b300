"""The npm tools under frontend/, installed at the versions its lock file pins by `make test`
(`npm install --no-save`; the Makefile says why not `npm ci`)."""

import os
import subprocess
from pathlib import Path

from app.config import PROJECT_ROOT

FRONTEND = PROJECT_ROOT / "frontend"
# No tool may reach the network: Redocly's usage telemetry and update check are off.
QUIET = {
    "REDOCLY_TELEMETRY": "off",
    "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
    "NO_UPDATE_NOTIFIER": "1",
    "npm_config_update_notifier": "false",
}


def tool(name: str) -> Path:
    path = FRONTEND / "node_modules" / ".bin" / name
    if not path.exists():
        raise RuntimeError(
            f"{path} is missing: run `make frontend/node_modules/.installed` (`make test` does)"
        )
    return path


def run_tool(
    name: str, *args: str | Path, timeout: float = 180, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run an npm tool in frontend/; the caller checks the exit status and output."""
    return subprocess.run(
        [str(tool(name)), *map(str, args)],
        cwd=FRONTEND,
        env={**os.environ, **QUIET, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_node(program: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(program), *args],
        cwd=FRONTEND,
        env={**os.environ, **QUIET},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )

"""The README is a contract: its examples return what they show, its commands exist, and the
Dockerfile runs the same service the README's run command does."""

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import PROJECT_ROOT, Settings
from app.main import create_app

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = re.compile(r"```console\n\$ curl -s '(?P<url>[^']+)'\n(?P<body>.*?)\n```", re.S)
BASE = "http://127.0.0.1:8000"


def examples() -> list[tuple[str, str]]:
    found = [(m["url"], m["body"]) for m in EXAMPLE.finditer(README)]
    assert len(found) >= 5
    return found


@pytest.fixture(scope="module")
def readme_client(reader_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=reader_url)), base_url=BASE) as client:
        yield client


@pytest.mark.parametrize(("url", "body"), examples(), ids=[u for u, _ in examples()])
def test_readme_example_returns_what_it_shows(
    readme_client: TestClient, url: str, body: str
) -> None:
    assert url.startswith(BASE)
    response = readme_client.get(url.removeprefix(BASE))
    if "format=csv" in url:
        assert response.text.replace("\r\n", "\n").rstrip("\n") == body
    else:
        assert response.json() == json.loads(body)


def _make_target(target: str) -> list[str]:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    block = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert block is not None, target
    return [line.strip() for line in block.group(1).splitlines()]


def test_readme_names_the_two_commands_and_ci_runs_the_test_one() -> None:
    assert "make run" in README
    assert "make test" in README
    ci = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.M)


def test_dockerfile_runs_the_same_steps_as_make_run() -> None:
    def atlas_steps(commands: list[str]) -> list[str]:
        steps = []
        for command in commands:
            for part in re.split(r"&&|;", command):
                words = shlex.split(part)
                words = [w for w in words if w != "exec"]
                if words and Path(words[0]).name == "atlas":
                    steps.append(words[1])
        return steps

    run_steps = atlas_steps([c.replace("$(BIN)/", "") for c in _make_target("run")])
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert cmd is not None
    docker_steps = atlas_steps(json.loads(cmd.group(1))[2:])
    assert run_steps == docker_steps == ["load", "serve"]
    assert "USER 10001" in dockerfile  # the non-root user created above
    assert "HEALTHCHECK" in dockerfile
    assert re.search(r"^FROM python:3\.\d+-slim$", dockerfile, re.M)


def test_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), "--no-color", str(PROJECT_ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

"""The README and the docs are a contract: every example in them returns what it shows, the
README names the two commands, the Dockerfile runs the same service the run command does,
the deployment guide's nginx configuration works in front of `atlas serve`, and every link
between the documents lands on a file and a heading that exist."""

import contextlib
import json
import re
import shlex
import shutil
import ssl
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import PROJECT_ROOT, Settings
from app.main import create_app
from harness.postgres import free_port
from harness.server import address_of, running_server
from tests.conftest import load_seeds

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
DOCS = {
    path.relative_to(PROJECT_ROOT).as_posix(): path.read_text(encoding="utf-8")
    for path in [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
}
EXAMPLE = re.compile(r"```console\n\$ curl -s '(?P<url>[^']+)'\n(?P<body>.*?)\n```", re.S)
BASE = "http://127.0.0.1:8000"


def examples() -> list[tuple[str, str, str]]:
    """Every example of the README and docs/*.md: (document, URL, body)."""
    found = [
        (doc, m["url"], m["body"]) for doc, text in DOCS.items() for m in EXAMPLE.finditer(text)
    ]
    assert sum(doc == "README.md" for doc, _, _ in found) >= 5  # the tour
    return found


@pytest.fixture(scope="module")
def readme_client(reader_url: str) -> Iterator[TestClient]:
    # The README's cursors were signed with this key (the old development default); a
    # deployment's own key is random (docs/security.md), so the examples name theirs.
    settings = Settings(database_url=reader_url, cursor_secret="innovation-atlas-cursor")
    with TestClient(create_app(settings), base_url=BASE) as client:
        yield client


@pytest.mark.parametrize(
    ("doc", "url", "body"), examples(), ids=[f"{doc}:{url}" for doc, url, _ in examples()]
)
def test_readme_example_returns_what_it_shows(
    readme_client: TestClient, doc: str, url: str, body: str
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
    assert re.search(r"^FROM python:3\.\d+[.\d]*-slim[\w-]*@sha256:[0-9a-f]{64}$", dockerfile, re.M)


def test_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), "--no-color", str(PROJECT_ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def nginx_example(atlas_port: int, listen_port: int, certificate: Path, key: Path) -> str:
    """The deployment guide's nginx configuration, pointed at a test server, port and
    certificate."""
    block = re.search(r"```nginx\n(.*?)```", DOCS["docs/operations.md"], re.S)
    assert block is not None
    replacements = {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{atlas_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{listen_port} ssl http2;",
        "/etc/ssl/certs/atlas.pem": str(certificate),
        "/etc/ssl/private/atlas.key": str(key),
    }
    text = block.group(1)
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


@pytest.fixture
def nginx_in_front(tmp_path: Path) -> Iterator[httpx.Client]:
    """nginx running the deployment guide's configuration in front of `atlas serve`, and a client
    that trusts its certificate."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    url = f"sqlite:///{tmp_path / 'atlas.db'}"
    load_seeds(url)
    certificate, key = tmp_path / "atlas.pem", tmp_path / "atlas.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=atlas.example.org", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    with running_server(url) as base:
        site = nginx_example(address_of(base)[1], port, certificate, key)
        (tmp_path / "atlas.conf").write_text(site)
        (tmp_path / "nginx.conf").write_text(
            f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
            "worker_processes 1; worker_rlimit_nofile 4096;\n"
            "events { worker_connections 1024; }\n"
            f"http {{ access_log off; client_body_temp_path {tmp_path}/body;"
            f" proxy_temp_path {tmp_path}/proxy; include {tmp_path}/atlas.conf; }}\n"
        )
        process = subprocess.Popen([nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")])
        trust = ssl.create_default_context(cafile=certificate)
        client = httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=trust, timeout=10)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.TransportError):
                    client.get("/healthz")
                    break
                time.sleep(0.1)
            yield client
        finally:
            client.close()
            process.terminate()
            process.wait(timeout=10)


def test_readme_nginx_example_fronts_the_api(nginx_in_front: httpx.Client) -> None:
    """The deployment example works as printed: it serves the API over TLS, refuses request
    content, and limits a client that asks too fast."""
    client = nginx_in_front
    response = client.get("/api/v1/cities?limit=1")
    assert response.status_code == 200
    assert response.json()["data"][0]["slug"]
    assert client.post("/api/v1/cities", content=b"x" * 4096).status_code == 413
    statuses = Counter(client.get("/healthz").status_code for _ in range(400))
    assert statuses[200] >= 100  # the burst allowance
    assert statuses[429] > 0  # then the per-client rate
    assert set(statuses) <= {200, 429}


def _anchors(text: str) -> set[str]:
    """The anchors GitHub gives a document's headings (outside code blocks)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    headings = re.findall(r"^#{1,6} (.+)$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


LINK = re.compile(r"\]\((?!https?:|mailto:)(?P<path>[^)#\s]*)(?:#(?P<anchor>[^)\s]+))?\)")


@pytest.mark.parametrize("doc", sorted(DOCS))
def test_every_link_between_the_docs_lands(doc: str) -> None:
    """A relative link names a file that exists and, with `#`, a heading it has: moving a
    section cannot leave a link behind."""
    here = (PROJECT_ROOT / doc).parent
    for match in LINK.finditer(DOCS[doc]):
        target = (here / match["path"]).resolve() if match["path"] else PROJECT_ROOT / doc
        assert target.exists(), (doc, match.group(0))
        if match["anchor"]:
            assert target.suffix == ".md", (doc, match.group(0))
            assert match["anchor"] in _anchors(target.read_text(encoding="utf-8")), (
                doc,
                match.group(0),
            )

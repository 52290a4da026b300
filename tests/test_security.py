"""The security review's findings (issue 25), each reproduced against the real thing: nginx
as shipped in front of `atlas serve`, exports over real sockets, cursors signed as a client
would forge them, and the small ones over HTTP."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import PROJECT_ROOT, Settings
from app.main import create_app
from harness.nginx import caching_proxy
from harness.server import serving
from tests.conftest import load_seeds

FORGED = {
    "x-forwarded-proto": "ws",
    "x-forwarded-for": "6.6.6.6",
    "x-forwarded-host": "evil.example",
}
LISTS = ("/api/v1/places?province=anhui&sort=name&limit=2", "/api/v1/clusters?sort=name")


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A loaded SQLite database, for what does not depend on the engine (proxies, sockets)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('security') / 'atlas.db'}"
    load_seeds(url)
    return url


def links_in(body: str) -> list[str]:
    return re.findall(r'"((?:[a-z]+):/[^"]*)"', body)


@pytest.mark.parametrize("public_url", [None, "https://atlas.example.org"])
def test_forged_forwarding_headers_never_reach_a_clean_client(
    sqlite_url: str, tmp_path: Path, public_url: str | None
) -> None:
    """The review's probe: with the API trusting its proxy, a client's X-Forwarded-Proto,
    -For and -Host through the shipped nginx cache. Sent first, so a poisoned answer would
    be the cached one; then a clean client asks for the same URLs."""
    env = {"ATLAS_TRUSTED_PROXIES": "127.0.0.1", "ATLAS_CURSOR_SECRET": "s"}
    if public_url is not None:
        env["ATLAS_PUBLIC_URL"] = public_url
    log = tmp_path / "api.log"
    with (
        serving(sqlite_url, env=env, log_path=log) as api,
        caching_proxy([api.address[1], api.address[1]], tmp_path / "nginx") as proxy,
    ):
        for url in LISTS:
            forged = httpx.get(proxy + url, headers=FORGED, timeout=30)
            assert forged.status_code == 200
            assert forged.headers["x-cache-status"] == "MISS"
            clean = httpx.get(proxy + url, timeout=30)
            assert clean.headers["x-cache-status"] == "HIT"
            links = links_in(clean.text)
            assert links
            origin = public_url or "http://127.0.0.1"  # nginx passes $host, without a port
            assert all(link.startswith(origin + "/") for link in links), links
            assert "evil.example" not in clean.text
            assert "6.6.6.6" not in clean.text
        # the same URL asked over https by a trusted proxy is another answer, and another ETag
        direct = httpx.get(api.base + LISTS[0], timeout=30)
        https = httpx.get(api.base + LISTS[0], headers={"x-forwarded-proto": "https"}, timeout=30)
        if public_url is None:
            assert direct.headers["etag"] != https.headers["etag"]
            assert "https://" in https.text
        else:
            assert direct.headers["etag"] == https.headers["etag"]
            assert direct.content == https.content
    logged = log.read_text(errors="replace")
    assert "6.6.6.6" not in logged
    assert '"GET /api/v1/clusters?sort=name HTTP/1.1" 200' in logged


def test_the_scheme_enters_the_validator(reader_url: str) -> None:
    app = create_app(Settings(database_url=reader_url))
    with (
        TestClient(app, base_url="http://atlas.example.org") as plain,
        TestClient(app, base_url="https://atlas.example.org") as secure,
    ):
        url = "/api/v1/clusters?limit=2"
        first, second = plain.get(url), secure.get(url)
        assert first.json()["links"]["self"].startswith("http://atlas.example.org/")
        assert second.json()["links"]["self"].startswith("https://atlas.example.org/")
        assert first.headers["etag"] != second.headers["etag"]
        refreshed = secure.get(url, headers={"if-none-match": first.headers["etag"]})
        assert refreshed.status_code == 200


def test_the_public_url_is_the_only_base_of_links(reader_url: str) -> None:
    settings = Settings(database_url=reader_url, public_url="https://atlas.example.org/")
    with TestClient(create_app(settings), base_url="http://10.0.0.7:8000") as client:
        for host in ("evil.example", "atlas.example.org"):
            answer = client.get("/api/v1/places?limit=2", headers={"host": host})
            links = links_in(answer.text)
            assert links
            assert all(link.startswith("https://atlas.example.org/api/v1/") for link in links)
        export = client.get("/api/v1/sources?format=csv", headers={"host": "evil.example"})
        assert "evil.example" not in export.headers["link"]
        assert export.headers["link"].startswith("<https://atlas.example.org/api/v1/sources")


@pytest.mark.parametrize(
    "url",
    ["https://atlas.example.org/api", "ftp://atlas.example.org", "atlas.example.org", "https://"],
)
def test_a_public_url_is_an_origin(url: str) -> None:
    with pytest.raises(ValueError, match="public_url"):
        Settings(public_url=url)


# HEAD and exports -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """27,761 synthetic observations: an NDJSON export of them (about 9 MB) is more than
    the kernel's socket buffers hold for a client that reads nothing."""
    url = f"sqlite:///{tmp_path_factory.mktemp('synthetic') / 'synthetic.db'}"
    subprocess.run(
        [sys.executable, "-m", "app", "synth", "--database-url", url,
         "--cities", "300", "--indicators", "10", "--years", "10"],
        cwd=PROJECT_ROOT, check=True, capture_output=True,
    )  # fmt: skip
    return url


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used (/proc/PID/stat, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_head_computes_an_exports_headers_and_stops(synthetic_url: str) -> None:
    """The review's probe, at small scale: HEAD of an export answered its headers and then
    walked every row for no one. Four HEADs (and four `If-None-Match: *`, answered 304)
    must cost less than half of one GET that walks the 27,761 rows."""
    url = "/api/v1/metrics?format=csv"
    with serving(synthetic_url, env={"ATLAS_CURSOR_SECRET": "s"}) as api:
        httpx.get(api.base + "/api/v1/metrics?format=csv&limit=5")  # warm the statements
        before = cpu_seconds(api.process.pid)
        walked = httpx.get(api.base + url, timeout=60)
        walk = cpu_seconds(api.process.pid) - before
        assert walked.status_code == 200
        assert walked.text.count("\n") == 27_761 + 1
        before = cpu_seconds(api.process.pid)
        for _ in range(4):
            head = httpx.head(api.base + url, timeout=60)
            assert head.status_code == 200
            assert head.headers["content-type"].startswith("text/csv")
            assert head.headers["x-atlas-sources"] == walked.headers["x-atlas-sources"]
            unchanged = httpx.get(api.base + url, headers={"if-none-match": "*"}, timeout=60)
            assert unchanged.status_code == 304
            assert unchanged.headers["etag"] == walked.headers["etag"]
        heads = cpu_seconds(api.process.pid) - before
    assert heads < walk / 2, (heads, walk)


def test_if_none_match_any_matches_only_a_current_representation(client: TestClient) -> None:
    star = {"if-none-match": "*"}
    for url, status in [
        ("/api/v1/places/no-such-place", 404),
        ("/api/v1/places?limit=0", 422),
        ("/api/v1/places?colour=red", 400),
        ("/api/v1/places?cursor=forged", 400),
    ]:
        answer = client.get(url, headers=star)
        assert answer.status_code == status, url
        assert answer.headers["content-type"] == "application/problem+json"
    current = client.get("/api/v1/places/hefei", headers=star)
    assert current.status_code == 304
    assert current.content == b""
    assert current.headers["etag"] == client.get("/api/v1/places/hefei").headers["etag"]


def stalled_export(address: tuple[str, int], target: str) -> socket.socket:
    """A client that asks for an export and reads nothing, with a small receive window."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(address)
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: atlas\r\n\r\n".encode())
    return sock


def first_200(url: str, within: float) -> float:
    """Seconds until `url` answers 200 (retrying its 429s), failing past `within`."""
    started = time.monotonic()
    while (answer := httpx.get(url, timeout=30)).status_code != 200:
        assert answer.status_code == 429, answer.text
        assert time.monotonic() - started < within, "the export slot was never given back"
        time.sleep(0.1)
    return time.monotonic() - started


def test_exports_are_bounded_per_worker_and_end_with_their_client(
    synthetic_url: str, tmp_path: Path
) -> None:
    env = {"ATLAS_EXPORT_SLOTS": "1", "ATLAS_SEND_TIMEOUT": "1", "ATLAS_CURSOR_SECRET": "s"}
    small = "/api/v1/metrics?format=csv&limit=5"
    with serving(synthetic_url, env=env, log_path=tmp_path / "api.log") as api:
        # a client that stops reading holds the one slot: the next export is refused at once
        stalled = stalled_export(api.address, "/api/v1/metrics?format=ndjson")
        time.sleep(0.5)
        refused = httpx.get(api.base + small, timeout=30)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "5"
        assert refused.headers["cache-control"] == "no-store"
        problem = refused.json()
        assert problem["type"] == "/problems/too-many-exports"
        assert "1 exports" in problem["detail"]
        assert httpx.get(api.base + "/api/v1/metrics?limit=5").status_code == 200  # JSON pages
        # ... until the send timeout resets it, which ends its walk and frees the slot
        assert first_200(api.base + small, within=5) < 3
        stalled.close()
        # a client that goes away mid-export frees it as soon as the server notices
        leaving = stalled_export(api.address, "/api/v1/metrics?format=ndjson")
        assert leaving.recv(4096).startswith(b"HTTP/1.1 200")
        leaving.close()
        assert first_200(api.base + small, within=5) < 2
        log = (tmp_path / "api.log").read_text(errors="replace")
        assert "Reset a connection whose client read nothing for 1 s" in log

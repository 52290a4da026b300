"""The security review's findings (issue 25), each reproduced against the real thing: nginx
as shipped in front of `atlas serve`, exports over real sockets, cursors signed as a client
would forge them, and the small ones over HTTP."""

import base64
import hashlib
import hmac
import importlib.metadata
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import tomllib
import urllib.error
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from starlette.datastructures import QueryParams

from app.api.export_rows import cell
from app.api.places import PLACE_SPEC
from app.caching import send_purge
from app.config import PROJECT_ROOT, Settings
from app.db import build_engine
from app.extract.candidates import Vocabulary, extract
from app.extract.documents import MAX_BYTES, DocumentError, read_document
from app.main import create_app
from app.migrate import upgrade_to_head
from app.query import parse_query
from app.seeding.secrets import ensure_secret, read_secret
from harness.nginx import caching_proxy
from harness.server import serving
from tests.conftest import Backend, load_seeds

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


# Cursors ------------------------------------------------------------------------------


def forged_cursor(payload: list[Any], secret: str, path: str, sort: str = "name") -> str:
    """A cursor signed as this API signs one: HMAC over the payload and the list's scope."""
    query = parse_query(PLACE_SPEC, QueryParams(f"sort={sort}"), secret=secret, path=path)
    body = orjson.dumps(payload)
    signature = hmac.new(secret.encode(), body + query.scope, hashlib.sha256).digest()[:12]

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return f"{b64(body)}.{b64(signature)}"


OLD_DEVELOPMENT_KEY = "innovation-atlas-cursor"  # the public default cursors were signed with


def test_cursors_are_not_forgeable_out_of_the_box(client: TestClient) -> None:
    """No ATLAS_CURSOR_SECRET: the review's forged cursor, signed with the key that was the
    public default, is refused; the load generated a key of its own and stored it."""
    path = "/api/v1/places"
    version = client.get(path).headers["x-atlas-dataset-version"]
    forged = forged_cursor(["places", "name", ["Hefei", 0], ""], OLD_DEVELOPMENT_KEY, path)
    refused = client.get(path, params={"sort": "name", "cursor": forged})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["parameter"] == "cursor"
    secret: str = client.app.state.cursor_secret  # type: ignore[attr-defined]
    assert secret != OLD_DEVELOPMENT_KEY
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    issued = forged_cursor(["places", "name", ["Hefei", 0], version[:16]], secret, path)
    assert client.get(path, params={"sort": "name", "cursor": issued}).status_code == 200


@pytest.mark.parametrize("version", ["", "0", "unversioned0", "x" * 16, "{v15}", "{v17}"])
def test_a_cursor_names_exactly_the_version_it_was_issued_with(
    client: TestClient, version: str
) -> None:
    """Even signed with the key: an empty version matched every version (startswith)."""
    path = "/api/v1/places"
    current = client.get(path).headers["x-atlas-dataset-version"]
    version = version.format(v15=current[:15], v17=current[:17])
    secret: str = client.app.state.cursor_secret  # type: ignore[attr-defined]
    cursor = forged_cursor(["places", "name", ["Hefei", 0], version], secret, path)
    answer = client.get(path, params={"sort": "name", "cursor": cursor})
    assert answer.status_code in (400, 409), answer.text
    assert answer.json()["errors"][0]["parameter"] == "cursor"


def test_every_process_shares_the_stored_key_and_the_variable_overrides_it(
    sqlite_url: str,
) -> None:
    with serving(sqlite_url) as first, serving(sqlite_url) as second:
        page = httpx.get(f"{first.base}/api/v1/places?sort=name&limit=3").json()
        cursor = page["meta"]["next_cursor"]
        params = {"sort": "name", "limit": 3, "cursor": cursor}
        assert httpx.get(f"{second.base}/api/v1/places", params=params).status_code == 200
        with serving(sqlite_url, env={"ATLAS_CURSOR_SECRET": "configured"}) as third:
            answer = httpx.get(f"{third.base}/api/v1/places", params=params)
            assert answer.status_code == 400
            own = httpx.get(f"{third.base}/api/v1/places?sort=name&limit=3").json()
            params["cursor"] = own["meta"]["next_cursor"]
            assert httpx.get(f"{third.base}/api/v1/places", params=params).status_code == 200
            assert httpx.get(f"{first.base}/api/v1/places", params=params).status_code == 400
    secret = "unused"
    engine = build_engine(sqlite_url)
    try:
        with engine.begin() as connection:
            secret = str(read_secret(connection))
            ensure_secret(connection)  # a later load keeps it
            assert read_secret(connection) == secret
    finally:
        engine.dispose()


def test_a_database_without_a_key_is_refused_at_start(backend: Backend) -> None:
    url = backend.new_database()
    upgrade_to_head(url)
    started = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--port", "1"],
        env={**os.environ, "DATABASE_URL": url}, cwd=PROJECT_ROOT,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert started.returncode == 1
    said = " ".join(started.stderr.split())
    assert "holds no cursor-signing key; run `atlas load`" in said
    assert "Traceback" not in started.stderr


# The small ones -------------------------------------------------------------------------


def test_a_405_names_every_method_served(client: TestClient) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        refused = client.request(method, "/api/v1/places")
        assert refused.status_code == 405
        assert refused.headers["allow"] == "GET, HEAD, OPTIONS"
        assert refused.headers["content-type"] == "application/problem+json"
    assert client.head("/api/v1/places").status_code == 200
    assert client.options("/api/v1/places").status_code in (200, 405)


def test_every_explorer_page_has_the_explorers_policy(client: TestClient) -> None:
    root = client.get("/", headers={"accept": "text/html"})
    page = client.get("/static/explorer/index.html")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == root.headers["content-security-policy"]
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    docs = client.get("/docs")
    assert docs.headers["content-security-policy"] != page.headers["content-security-policy"]


def test_nothing_varies_on_origin_while_every_origin_is_allowed(client: TestClient) -> None:
    url = "/api/v1/places?limit=1"
    plain = client.get(url)
    from_site = client.get(url, headers={"origin": "https://elsewhere.example"})
    for answer in (plain, from_site):
        assert "origin" not in [v.strip().lower() for v in answer.headers["vary"].split(",")]
        assert answer.headers["access-control-allow-origin"] == "*"
        assert (
            answer.headers["access-control-expose-headers"]
            == (plain.headers["access-control-expose-headers"])
        )


def test_listed_origins_still_vary_on_origin(reader_url: str) -> None:
    settings = Settings(database_url=reader_url, cors_origins=["https://atlas.example.org"])
    with TestClient(create_app(settings)) as client:
        answer = client.get(
            "/api/v1/places?limit=1", headers={"origin": "https://atlas.example.org"}
        )
        assert answer.headers["access-control-allow-origin"] == "https://atlas.example.org"
        assert "Origin" in answer.headers["vary"]


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql://atlas:secret@localhost:99999/atlas", "port 99999 is outside 1-65535"),
        ("postgresql://atlas:secret@localhost:abc/atlas", "a port must be a number"),
        ("mysql://atlas@localhost/atlas", "'mysql' is not a database this server speaks"),
    ],
)
@pytest.mark.parametrize("command", ["serve", "load", "grant-reader"])
def test_a_bad_database_url_is_one_line(url: str, said: str, command: str) -> None:
    arguments = ["grant-reader", "nobody"] if command == "grant-reader" else [command]
    ran = subprocess.run(
        [sys.executable, "-m", "app", *arguments],
        env={**os.environ, "DATABASE_URL": url}, cwd=PROJECT_ROOT,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert ran.returncode == 1
    assert ran.stderr.count("\n") == 1, ran.stderr
    assert ran.stderr.startswith("error: DATABASE_URL cannot be used: ")
    assert said in ran.stderr
    assert "secret" not in ran.stderr


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1+cmd", "'-1+cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\n=1", "'\n=1"),
        ("  =1", "'  =1"),
        ("\u3000=1", "'\u3000=1"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("\uff0b1", "'\uff0b1"),
        ("\uff0dcmd", "'\uff0dcmd"),
        ("\uff20SUM(A1)", "'\uff20SUM(A1)"),
        ("-3.5", "-3.5"),  # a negative number is data
        ("Hefei = capital", "Hefei = capital"),
        ("a\n=1", "a\n=1"),  # a formula starts a cell, not a line within it
    ],
)
def test_the_csv_guard_covers_every_spreadsheet_trigger(value: str, written: str) -> None:
    assert cell(value) == written


class Answering(BaseHTTPRequestHandler):
    """A purge endpoint answering with the status (and Location) its path names."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        status = int(self.path.strip("/").split("/")[0])
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("location", "/200")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_purge_must_be_an_http_post_answered_2xx_without_redirects() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answering)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert send_purge(f"{base}/200", ["dataset:a"], "b") == 200
        assert send_purge(f"{base}/204", ["dataset:a"], "b") == 204
        for refused in (f"{base}/302", f"{base}/307", f"{base}/500", f"{base}/404"):
            with pytest.raises(urllib.error.HTTPError):
                send_purge(refused, ["dataset:a"], "b")
        for other in ("file:///etc/passwd", "ftp://127.0.0.1/", "gopher://x", "/etc/passwd"):
            with pytest.raises(OSError, match="http:// or https://"):
                send_purge(other, ["dataset:a"], "b")
    finally:
        server.shutdown()


def test_the_base_image_is_pinned_by_digest() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    bases = re.findall(r"^FROM\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert bases
    for base in bases:
        assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", base), base


# atlas extract ----------------------------------------------------------------------------


def run_extract(arguments: list[str], url: str, given: bytes | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "app", "extract", *arguments],
        env={**os.environ, "DATABASE_URL": url}, cwd=PROJECT_ROOT,
        input=given, capture_output=True, timeout=120,
    )  # fmt: skip


def test_extract_reads_regular_files_only(sqlite_url: str, tmp_path: Path) -> None:
    """/dev/zero and a FIFO reported a size of 0 and were read until memory ran out (or,
    for a FIFO with no writer, forever)."""
    fifo = tmp_path / "article.fifo"
    os.mkfifo(fifo)
    for path in ("/dev/zero", "/dev/urandom", str(fifo), str(tmp_path)):
        ran = run_extract(["--json", path], sqlite_url)
        assert ran.returncode == 2, path
        said = ran.stderr.decode()
        assert said.count("\n") == 1, said
        assert "is not a regular file" in said
        assert "`atlas extract -`" in said


def test_extract_reads_standard_input_within_the_limit(sqlite_url: str) -> None:
    article = b"Hefei's output reached 12.5 billion yuan in 2023, up 8 percent.\n"
    ran = run_extract(["--json", "-"], sqlite_url, given=article)
    assert ran.returncode == 0, ran.stderr
    lines = [json.loads(line) for line in ran.stdout.splitlines()]
    assert [line["stated"] for line in lines][:1] == ["12.5 billion yuan"]
    too_large = run_extract(["--json", "-"], sqlite_url, given=b"a" * (MAX_BYTES + 1))
    assert too_large.returncode == 2
    assert too_large.stderr.decode() == "error: standard input is larger than 5 MB\n"


@pytest.fixture(scope="module")
def vocabulary(sqlite_url: str) -> Vocabulary:
    engine = build_engine(sqlite_url, read_only=True)
    try:
        return Vocabulary.from_database(engine)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("head", "unit", "size"),
    [
        ("Hefei had ", "1,", 25_600),  # 51.9 s before, in the review
        ("Hefei had ", "1,", 512_000),
        ("Hefei had ", "12 billion yuan and ", 512_000),
        ("", "Hefei had 1. ", 256_000),
    ],
)
def test_extraction_takes_linear_time(
    vocabulary: Vocabulary, tmp_path: Path, head: str, unit: str, size: int
) -> None:
    """Four times the text takes about four times as long, not sixteen: compared with a
    quarter of it on the same machine a moment before, so a slow machine does not fail it
    (an absolute bound failed a loaded CI run: 4.4 s against 4 s)."""

    def seconds(length: int) -> float:
        path = tmp_path / f"hostile-{length}.txt"
        path.write_text(head + unit * (length // len(unit)), encoding="utf-8")
        started = time.perf_counter()
        assert extract(read_document(path), vocabulary)
        return time.perf_counter() - started

    quarter = seconds(size // 4)
    assert seconds(size) < 8 * quarter + 0.25


def test_extraction_stops_at_its_deadline(vocabulary: Vocabulary, tmp_path: Path) -> None:
    path = tmp_path / "hostile.txt"
    path.write_text("Hefei had 1. " * 100_000, encoding="utf-8")
    with pytest.raises(DocumentError, match=r"extraction stopped after 0\.2 s"):
        extract(read_document(path), vocabulary, deadline_seconds=0.2)


# Reproducible installs ------------------------------------------------------------------------


def pinned(lock: Path) -> dict[str, str]:
    """name -> version of every requirement in a lock file; each must carry a hash."""
    text = lock.read_text(encoding="utf-8")
    entries = re.findall(
        r"^([A-Za-z0-9_.-]+)==(\S+)((?:\s*\\\n\s+--hash=sha256:[0-9a-f]{64})+)", text, re.M
    )
    assert entries
    requirements = [line for line in text.splitlines() if re.match(r"^[A-Za-z0-9]", line)]
    assert len(requirements) == len(entries), "a requirement without a hash"
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version, _ in entries}


def test_installs_come_from_the_lock_files_with_hashes() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = pinned(PROJECT_ROOT / "requirements.lock")
    development = pinned(PROJECT_ROOT / "requirements-dev.lock")
    extras = project["project"]["optional-dependencies"]
    for names, lock in (
        (project["project"]["dependencies"], runtime),
        ([*project["project"]["dependencies"], *extras["dev"], *extras["bench"]], development),
    ):
        for requirement in names:
            name = re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]
            assert re.sub(r"[-_.]+", "-", name).lower() in lock, requirement
    assert all(development[name] == version for name, version in runtime.items())
    build = pinned(PROJECT_ROOT / "requirements-build.lock")  # the image's build backend
    assert "setuptools" in build
    assert all(development[name] == version for name, version in build.items())
    installed = {  # the venv the tests run in has the versions the lock pins
        re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower(): d.version
        for d in importlib.metadata.distributions()
    }
    assert {n: installed.get(n) for n in development} == development
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements-dev.lock" in makefile
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "--require-hashes -r requirements-build.lock" in dockerfile

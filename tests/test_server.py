"""`atlas serve`: TCP_NODELAY on keep-alive connections with any number of workers, and a
cap on the request head that holds with the httptools parser it runs."""

import asyncio
import json
import socket
from collections.abc import Iterator

import pytest

from app.server import MAX_HEADER_BYTES, MAX_TARGET_BYTES, AtlasConfig, config
from tests.conftest import load_seeds
from tests.support.server import address_of, exchange, running_server


async def _accepted_nodelay(listener: socket.socket) -> int:
    """Accept one connection through asyncio (as uvicorn does) and read its TCP_NODELAY."""
    loop = asyncio.get_running_loop()
    seen: asyncio.Future[int] = loop.create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await loop.create_server(Probe, sock=listener)
    host, port = listener.getsockname()[:2]
    _, writer = await asyncio.open_connection(host, port)
    try:
        return await asyncio.wait_for(seen, 5)
    finally:
        writer.close()
        server.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_listener_gives_accepted_sockets_tcp_nodelay(workers: int) -> None:
    listener = config("127.0.0.1", 0, workers).bind_socket()
    assert listener.proto == socket.IPPROTO_TCP
    assert asyncio.run(_accepted_nodelay(listener)) == 1


def test_config_caps_header_size_and_hides_server_banner() -> None:
    settings = config("127.0.0.1", 0, 1)
    assert isinstance(settings, AtlasConfig)
    assert settings.h11_max_incomplete_event_size == MAX_HEADER_BYTES
    assert settings.server_header is False


@pytest.fixture(scope="module")
def address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('server') / 'atlas.db'}"
    load_seeds(url)
    with running_server(url) as base:
        yield address_of(base)


def problem(response: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"content-type: application/problem+json" in head.lower()
    assert b"connection: close" in head.lower()
    return status, json.loads(body)


def get(target: bytes, *headers: bytes) -> bytes:
    lines = [b"GET " + target + b" HTTP/1.1", b"Host: test", *headers, b"Connection: close"]
    return b"\r\n".join(lines) + b"\r\n\r\n"


@pytest.mark.parametrize("chunk", [0, 1000])
@pytest.mark.parametrize("size", [MAX_HEADER_BYTES + 1, 100_000, 1_000_000])
def test_oversized_headers_get_431(address: tuple[str, int], size: int, chunk: int) -> None:
    status, body = problem(exchange(address, get(b"/healthz", b"X-Big: " + b"x" * size), chunk))
    assert status == 431
    assert body["type"] == "/problems/request-too-large"
    assert body["instance"] == "/healthz"


def test_many_small_headers_count_towards_the_cap(address: tuple[str, int]) -> None:
    headers = [b"X-H%d: %s" % (n, b"v" * 100) for n in range(200)]
    status, _ = problem(exchange(address, get(b"/healthz", *headers)))
    assert status == 431


@pytest.mark.parametrize("size", [MAX_TARGET_BYTES + 1, 40_000, 300_000])
def test_oversized_request_target_gets_414(address: tuple[str, int], size: int) -> None:
    target = b"/api/v1/cities?name=" + b"a" * size
    status, body = problem(exchange(address, get(target), chunk=4096))
    assert status == 414
    assert body["instance"] == "/api/v1/cities"
    assert str(MAX_TARGET_BYTES) in str(body["detail"])


def test_requests_under_the_caps_are_served(address: tuple[str, int]) -> None:
    headers = [b"X-H%d: %s" % (n, b"v" * 100) for n in range(60)]  # with the target, ~15 KB
    target = b"/api/v1/cities?name=" + b"a" * (MAX_TARGET_BYTES - 100)
    response = exchange(address, get(target, *headers), chunk=1000)
    assert response.startswith(b"HTTP/1.1 422 ")  # the app's own verdict on a long name


def test_pipelined_requests_are_each_answered(address: tuple[str, int]) -> None:
    first = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"
    response = exchange(address, first * 3 + get(b"/api/v1/cities?limit=1"))
    assert response.count(b"HTTP/1.1 200 OK") == 4

"""`atlas serve` keeps TCP_NODELAY on keep-alive connections with any number of workers."""

import asyncio
import socket

import pytest

from app.server import AtlasConfig, config


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
    assert settings.h11_max_incomplete_event_size == 16 * 1024
    assert settings.server_header is False

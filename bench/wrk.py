"""Driving wrk and reading its report."""

import re
import subprocess
from dataclasses import dataclass

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx responses plus socket errors
    max_ms: float = 0.0
    socket_errors: int = 0


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise ValueError(f"unreadable latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk_output(
    url: str,
    *,
    seconds: int,
    connections: int,
    threads: int = 2,
    script: str | None = None,
    timeout: str = "10s",
) -> str:
    """One bounded wrk run (its own -d plus a hard timeout) against a loopback URL, with an
    optional Lua script; wrk's report as text."""
    assert url.startswith("http://127.0.0.1:"), "benchmarks only target this machine"
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", timeout, *(["-s", script] if script else []), url]
    completed = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60
    )
    return completed.stdout


def read_report(output: str) -> WrkResult:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    latency = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"(\d+) requests in", output)
    if not (rps and latency and p50 and p99 and total):
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    sockets = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return WrkResult(
        requests_per_second=float(rps.group(1)),
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        requests=int(total.group(1)),
        errors=(int(non_2xx.group(1)) if non_2xx else 0) + sockets,
        max_ms=_ms(latency.group(1)),
        socket_errors=sockets,
    )


def run_wrk(url: str, *, seconds: int, connections: int, threads: int = 2) -> WrkResult:
    return read_report(wrk_output(url, seconds=seconds, connections=connections, threads=threads))

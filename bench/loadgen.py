"""A closed-loop HTTP/1.1 load generator: N connections, each sends its next request as soon as
the previous answer is in. asyncio, raw sockets, keep-alive when the server allows it.

Why not wrk: the benchmark must know exactly which bodies were sent and answered (stored ==
unique sent), and wrk stops mid-request at its deadline. Cost: see ``Result.client_cpu_s``; the
benchmark reports it so the load generator's share of the 2 cores is visible.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Result:
    latencies_s: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    bad_bodies: int = 0
    errors: list[str] = field(default_factory=list)
    connects: int = 0
    wall_s: float = 0.0
    client_cpu_s: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies_s)

    @property
    def rps(self) -> float:
        return self.count / self.wall_s if self.wall_s else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_s)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def failures(self) -> int:
        return len(self.errors) + self.bad_bodies

    def latency_ms(self) -> dict[str, float]:
        """The answer-time summary every report prints: median, p99 and worst, in milliseconds."""
        return {
            "p50_ms": round(self.percentile(0.50) * 1000, 2),
            "p99_ms": round(self.percentile(0.99) * 1000, 2),
            "max_ms": round(max(self.latencies_s, default=0) * 1000, 2),
        }


class _Connection:
    def __init__(self, host: str, port: int, result: Result) -> None:
        self.host, self.port, self.result = host, port, result
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.result.connects += 1
        assert self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, close, chunked = 0, False, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value == b"close":
                close = True
            elif name == b"transfer-encoding" and value == b"chunked":
                chunked = True
        if chunked:
            body = await self._chunks()
        elif length:
            body = await self.reader.readexactly(length)
        elif close or lines[0].startswith(b"HTTP/1.0"):
            body, close = await self.reader.read(), True  # delimited by the end of the stream
        else:
            body = b""
        if close:
            self.close()
        return status, body

    async def _chunks(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return b"".join(parts)
            parts.append(chunk[:-2])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def request_bytes(host: str, port: int, path: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: neno-bench\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def run(
    *,
    host: str,
    port: int,
    requests: Iterable[bytes],
    connections: int,
    expect: bytes,
    result: Result | None = None,
) -> Result:
    """Send every raw request once, over ``connections`` concurrent connections, in order.

    A response counts as good when it is a 200 whose body contains ``expect``. ``requests`` may
    be a generator (a sustained run makes new ones until its deadline); pass ``result`` to
    watch it fill from another thread while the run goes on.
    """
    return asyncio.run(_run(host, port, requests, connections, expect, result or Result()))


async def _run(
    host: str,
    port: int,
    requests: Iterable[bytes],
    connections: int,
    expect: bytes,
    result: Result,
) -> Result:
    queue = iter(requests)

    async def worker() -> None:
        conn = _Connection(host, port, result)
        for raw in queue:
            started = time.perf_counter()
            try:
                status, body = await conn.send(raw)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                conn.close()
                result.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            result.latencies_s.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status != 200 or expect not in body:
                result.bad_bodies += 1
        conn.close()

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    result.wall_s = time.perf_counter() - wall0
    result.client_cpu_s = time.process_time() - cpu0
    return result

"""A running emulator, a callback receiver and a Daraja-speaking client for every test.

No Django, no database, no network beyond loopback: the emulator and the receiver each bind
port 0 in this process.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from daraja_emulator import Emulator, Settings
from daraja_emulator.security import encrypt
from daraja_emulator.settings import ShortcodeSettings

KEY, SECRET = "test-key", "test-secret"
SHORTCODE = "600000"


@dataclass
class Captured:
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


@dataclass
class Reply:
    status: int = 200
    body: Any = field(default_factory=lambda: {"ResultCode": "0", "ResultDesc": "Accepted"})
    delay: float = 0.0
    raw: bytes | None = None


class _ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # bursts of concurrent deliveries must not be refused


class Receiver:
    """Plays the project's callback endpoints: records every POST and answers as told."""

    def __init__(self) -> None:
        self.requests: list[Captured] = []
        self.replies: dict[str, Reply] = {}
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._cond:
                    receiver.requests.append(Captured(self.path, dict(self.headers), raw))
                    receiver._cond.notify_all()
                reply = receiver.replies.get(self.path, Reply())
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the emulator gave up waiting (validation timeout tests)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = _ReceiverServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def reply(self, path: str, **kwargs: Any) -> None:
        self.replies[path] = Reply(**kwargs)

    def at(self, path: str) -> list[Captured]:
        with self._cond:
            return [r for r in self.requests if r.path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 5.0) -> list[Captured]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [r for r in self.requests if r.path == path]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} POST(s) to {path}, got {len(found)}")
                self._cond.wait(remaining)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    instance = Receiver()
    yield instance
    instance.stop()


def fast_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "consumer_key": KEY,
        "consumer_secret": SECRET,
        "allow_localhost": True,
        "validation_timeout": 0.5,
        "confirmation_timeout": 1.0,
        "result_delay": 0.0,
        "seed": 7,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., Emulator]]:
    started: list[Emulator] = []

    def make(**overrides: Any) -> Emulator:
        emulator = Emulator(fast_settings(**overrides), log=None).start()
        started.append(emulator)
        return emulator

    yield make
    for emulator in started:
        emulator.stop()


@pytest.fixture
def emulator(make_emulator: Callable[..., Emulator]) -> Emulator:
    return make_emulator()


class Daraja:
    """A thin client speaking the real API to the emulator, the way the project will."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.http = httpx.Client(base_url=emulator.url, trust_env=False, timeout=10)
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            reply = self.http.get(
                "/oauth/v1/generate",
                params={"grant_type": "client_credentials"},
                auth=(KEY, SECRET),
            )
            assert reply.status_code == 200, reply.text
            self._token = reply.json()["access_token"]
        return self._token

    def post(self, path: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token()}"}
        return self.http.post(path, json=body, headers=headers, **kwargs)

    def register(
        self,
        receiver: Receiver,
        *,
        shortcode: str = SHORTCODE,
        version: str = "v2",
        response_type: str = "Completed",
    ) -> httpx.Response:
        return self.post(
            f"/mpesa/c2b/{version}/registerurl",
            {
                "ShortCode": shortcode,
                "ResponseType": response_type,
                "ConfirmationURL": receiver.url("/c2b/confirmation"),
                "ValidationURL": receiver.url("/c2b/validation"),
            },
        )

    def simulate(
        self, *, shortcode: str = SHORTCODE, version: str = "v2", **fields: Any
    ) -> httpx.Response:
        body = {
            "ShortCode": shortcode,
            "CommandID": "CustomerPayBillOnline",
            "Amount": 10,
            "Msisdn": "254708374149",
            "BillRefNumber": "M1001",
        } | fields
        return self.post(f"/mpesa/c2b/{version}/simulate", body)

    def security_credential(self, password: str = "Safaricom999!*!") -> str:
        """What the app does: encrypt the initiator password with the served certificate."""
        certificate = self.control("GET", "/certificate.pem")
        assert certificate.status_code == 200, certificate.text
        return encrypt(certificate.content, password)

    def control(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return self.http.request(method, f"/emulator{path}", json=body)

    def configure(self, shortcode: str = SHORTCODE, **settings: Any) -> dict[str, Any]:
        reply = self.control("POST", "/shortcodes", {"shortcode": shortcode} | settings)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def pay(self, **body: Any) -> dict[str, Any]:
        """Control-API payment that waits until callbacks are done; returns the ledger entry."""
        payload = {
            "ShortCode": SHORTCODE,
            "CommandID": "CustomerPayBillOnline",
            "Amount": 10,
            "Msisdn": "254708374149",
            "BillRefNumber": "M1001",
            "wait": True,
        } | body
        reply = self.control("POST", "/simulate", payload)
        assert reply.status_code == 200, reply.text
        assert reply.json()["finished"]
        return reply.json()["transaction"]


@pytest.fixture
def daraja(emulator: Emulator) -> Iterator[Daraja]:
    client = Daraja(emulator)
    yield client
    client.http.close()


def shortcode(number: str = SHORTCODE, **values: Any) -> ShortcodeSettings:
    return ShortcodeSettings.from_dict({"shortcode": number} | values)

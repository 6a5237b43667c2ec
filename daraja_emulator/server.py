"""HTTP front door: routing, the gateway's checks (bearer, JSON), logging, start/stop.

``Emulator`` is the importable, embeddable server::

    with Emulator(Settings(allow_localhost=True)) as emulator:
        httpx.get(f"{emulator.url}/emulator/health")
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

from daraja_emulator import c2b, control, errors, pull, security, status
from daraja_emulator.clock import Clock
from daraja_emulator.settings import Settings
from daraja_emulator.state import EmulatorState
from daraja_emulator.statement import XLSX_CONTENT_TYPE

MAX_BODY = 1024 * 1024


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes
    client: str


@dataclass
class Response:
    status: int
    body: Any
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    error_code: str = ""


Handler = Callable[[EmulatorState, Request, dict[str, str]], Response]


def _media_type(request: Request) -> str:
    return (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()


def _json_object(request: Request, *, strict: bool) -> dict[str, Any]:
    """Daraja's POST APIs insist on a JSON object sent as application/json. The control API
    is lenient about the header (curl -d) and treats an empty body as {}."""
    if strict and _media_type(request) != "application/json":
        raise errors.invalid_field("Content-Type", "application/json is required")
    if not strict and not request.body.strip():
        return {}
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise errors.invalid_field("JSON", "the body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise errors.invalid_field("JSON", "the body must be a JSON object")
    return data


def daraja_api(fn: Callable[..., dict[str, Any]]) -> Handler:
    """Gateway order: the token first, then the body."""

    def handle(state: EmulatorState, request: Request, params: dict[str, str]) -> Response:
        state.tokens.check(request.headers.get("Authorization"))
        return Response(200, fn(state, *params.values(), _json_object(request, strict=True)))

    return handle


def control_api(fn: Callable[..., Any], *, body: bool = False, query: bool = False) -> Handler:
    def handle(state: EmulatorState, request: Request, params: dict[str, str]) -> Response:
        args: list[Any] = list(params.values())
        if body:
            args.append(_json_object(request, strict=False))
        if query:
            args.append(request.query)
        return Response(200, fn(state, *args))

    return handle


def oauth(state: EmulatorState, request: Request, params: dict[str, str]) -> Response:
    grant_type = request.query.get("grant_type")
    return Response(200, state.tokens.issue(request.headers.get("Authorization"), grant_type))


def statement_csv(state: EmulatorState, request: Request, params: dict[str, str]) -> Response:
    text = control.statement_csv(state, request.query)
    name = f"statement-{request.query['shortcode']}.csv"
    return Response(
        200,
        text,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def statement_xlsx(state: EmulatorState, request: Request, params: dict[str, str]) -> Response:
    data = control.statement_xlsx(state, request.query)
    name = f"statement-{request.query['shortcode']}.xlsx"
    return Response(
        200,
        data,
        content_type=XLSX_CONTENT_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def certificate(state: EmulatorState, request: Request, params: dict[str, str]) -> Response:
    """The certificate whose public key encrypts SecurityCredential, as Safaricom publishes
    its own for each environment."""
    try:
        pair = security.key_pair(state.settings.key_dir)
    except security.CredentialKeyUnavailable as exc:
        raise errors.ApiError(500, "emulator.500", str(exc)) from exc
    return Response(
        200,
        pair.certificate_pem,
        content_type="application/x-pem-file",
        headers={"Content-Disposition": 'attachment; filename="daraja-emulator-cert.pem"'},
    )


VERSION = r"(?P<version>v1|v2)"
ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", r"/oauth/v1/generate", oauth),
    ("POST", rf"/mpesa/c2b/{VERSION}/registerurl", daraja_api(c2b.register_url)),
    ("POST", rf"/mpesa/c2b/{VERSION}/simulate", daraja_api(c2b.simulate)),
    ("POST", r"/mpesa/transactionstatus/v1/query", daraja_api(status.query)),
    ("POST", r"/pulltransactions/v1/register", daraja_api(pull.register)),
    ("POST", r"/pulltransactions/v1/query", daraja_api(pull.query)),
    ("GET", r"/emulator/health", control_api(control.health)),
    ("GET", r"/emulator/shortcodes", control_api(control.list_shortcodes)),
    ("POST", r"/emulator/shortcodes", control_api(control.configure_shortcode, body=True)),
    ("GET", r"/emulator/shortcodes/(?P<number>\d+)", control_api(control.get_shortcode)),
    ("DELETE", r"/emulator/shortcodes/(?P<number>\d+)/urls", control_api(control.delete_urls)),
    ("POST", r"/emulator/reset", control_api(control.reset)),
    ("GET", r"/emulator/ledger", control_api(control.ledger, query=True)),
    ("POST", r"/emulator/ledger", control_api(control.insert_ledger, body=True)),
    ("GET", r"/emulator/ledger/(?P<trans_id>[A-Za-z0-9]+)", control_api(control.ledger_entry)),
    (
        "POST",
        r"/emulator/ledger/(?P<trans_id>[A-Za-z0-9]+)/reverse",
        control_api(control.reverse, body=True),
    ),
    (
        "POST",
        r"/emulator/ledger/(?P<trans_id>[A-Za-z0-9]+)/confirm",
        control_api(control.confirm, body=True),
    ),
    ("POST", r"/emulator/transfer", control_api(control.transfer, body=True)),
    ("GET", r"/emulator/lines", control_api(control.lines, query=True)),
    ("GET", r"/emulator/statement\.csv", statement_csv),
    ("GET", r"/emulator/statement\.xlsx", statement_xlsx),
    ("POST", r"/emulator/simulate", control_api(control.simulate, body=True)),
    ("GET", r"/emulator/scenario", control_api(control.list_scenarios)),
    ("POST", r"/emulator/scenario", control_api(control.start, body=True)),
    ("GET", r"/emulator/scenario/(?P<id>[\w-]+)", control_api(control.scenario_progress)),
    ("GET", r"/emulator/deliveries", control_api(control.result_deliveries)),
    ("GET", r"/emulator/certificate\.pem", certificate),
    ("GET", r"/emulator/clock", control_api(lambda state: control.clock(state, None))),
    ("POST", r"/emulator/clock", control_api(control.clock, body=True)),
]
_COMPILED = [(method, re.compile(pattern + r"/?"), handler) for method, pattern, handler in ROUTES]


def route(method: str, path: str) -> tuple[Handler, dict[str, str]]:
    for route_method, pattern, handler in _COMPILED:
        match = pattern.fullmatch(path)
        if match and route_method == method:
            return handler, match.groupdict()
    raise errors.not_found()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 128  # the default backlog of 5 refuses bursts of concurrent clients

    def __init__(self, address: tuple[str, int], state: EmulatorState, log: TextIO | None):
        super().__init__(address, _RequestHandler)
        self.state = state
        self.log = log
        self.log_lock = threading.Lock()


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real gateway
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server_version = "daraja-emulator"
    sys_version = ""
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: ``_log`` writes one line per request, without headers or bodies."""

    def _dispatch(self) -> None:
        started = time.monotonic()
        parts = urlsplit(self.path)
        try:
            response = self._handle(parts.path, dict(parse_qsl(parts.query)))
        except errors.ApiError as exc:
            response = Response(exc.status, exc.envelope(), error_code=exc.code)
        except Exception:
            self._write_log(traceback.format_exc())
            failure = errors.ApiError(500, "500.001.1001", "Server Error")
            response = Response(500, failure.envelope(), error_code=failure.code)
        self._send(response)
        elapsed = (time.monotonic() - started) * 1000
        suffix = f" {response.error_code}" if response.error_code else ""
        # The path only: query strings and headers may carry credentials.
        self._write_log(
            f"{self.client_address[0]} {self.command} {parts.path} "
            f"{response.status}{suffix} {elapsed:.1f}ms"
        )

    def _handle(self, path: str, query: dict[str, str]) -> Response:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            raise errors.ApiError(411, "411.000.01", "Length Required")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            raise errors.ApiError(413, "413.000.01", "Request body too large")
        body = self.rfile.read(length) if length else b""
        handler, params = route(self.command, path)
        request = Request(self.command, path, query, self.headers, body, self.client_address[0])
        return handler(self.server.state, request, params)

    def _send(self, response: Response) -> None:
        if isinstance(response.body, str | bytes):
            raw = response.body if isinstance(response.body, bytes) else response.body.encode()
        else:
            raw = json.dumps(response.body).encode("utf-8")
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(raw)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(raw)

    def _write_log(self, line: str) -> None:
        if self.server.log is None:
            return
        with self.server.log_lock:
            self.server.log.write(f"daraja-emulator: {line.rstrip()}\n")
            self.server.log.flush()


class Emulator:
    """The emulator as an object: ``start()`` binds (port 0 picks a free port), ``url`` says
    where, ``stop()`` shuts the server and its background deliveries down."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log: TextIO | None = sys.stderr,
        clock: Clock | None = None,
    ) -> None:
        self.state = EmulatorState(settings or Settings(), clock)
        self._address = (host, port)
        self._log = log
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._address[0]}:{self.port}"

    def start(self) -> Emulator:
        self._server = _Server(self._address, self.state, self._log)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        # The SecurityCredential key pair, made now so the first status query does not wait.
        threading.Thread(
            target=security.warm_up, args=(self.state.settings.key_dir,), daemon=True
        ).start()
        return self

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no callback delivery or scenario is running."""
        return self.state.workers.join(timeout)

    def stop(self) -> None:
        self.state.workers.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""The processes the end-to-end tests run against, started once per session.

- the Daraja emulator (``python -m daraja_emulator --port 0``), its URL read from its first line;
- the web app as production runs it: ``config.serve.web_command`` (uWSGI) and ``config.settings``,
  on the pytest-django test database (PostgreSQL only: SQLite's test database is in memory);
- a capture worker (``manage.py capture_worker``) beside it, polling every 100 ms;
- ``manage.py`` commands run as subprocesses with the same environment.

Every test gets a reset emulator and (``transaction=True``) an emptied database. Process output
goes to log files whose tails are attached to any failing test's report.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/neno_e2e .venv/bin/pytest e2e`` (or
``-m e2e``); on SQLite they skip.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from config.serve import web_command
from demo.processes import Process, free_port, manage, wait_for_http, wait_until

CONSUMER_KEY = "e2e-consumer-key"
CONSUMER_SECRET = "e2e-consumer-secret"
# The emulator's default Transaction Status initiator and its password (its README).
INITIATOR, INITIATOR_PASSWORD = "testapi", "Safaricom999!*!"
# Hex only: a random token must never spell a word Safaricom refuses in URLs (exe, cmd, sql...).
CALLBACK_TOKEN = secrets.token_hex(16)
# Seconds the emulator waits for our validation answer. The shared emulator gives the app room
# on a busy machine (M-Pesa gives about 8 s); the timeout tests use their own impatient one.
VALIDATION_TIMEOUT = 5.0
SHORT_VALIDATION_TIMEOUT = 1.0
WAIT = 20.0  # upper bound for anything the tests wait for

_LISTENING = re.compile(r"daraja-emulator listening on (http://\S+)")
_running: dict[str, Process] = {}  # name -> process, for the failure report


# --- processes -------------------------------------------------------------------------------


def logs_of(*processes: Process, lines: int = 40) -> str:
    chosen = processes or tuple(_running.values())
    return "\n".join(
        f"----- {p.name} log (last {lines} lines) -----\n{p.tail(lines)}" for p in chosen
    )


def stop(process: Process) -> None:
    process.stop()
    _running.pop(process.name, None)


def start_emulator(
    name: str, log: Path, *flags: str, validation_timeout: float = VALIDATION_TIMEOUT
) -> tuple[Process, str]:
    """Start an emulator on a free port; returns it and its base URL (from its first line)."""
    process = Process(
        name,
        [
            sys.executable,
            "-m",
            "daraja_emulator",
            "--port",
            "0",
            "--allow-localhost",
            "--validation-timeout",
            str(validation_timeout),
            "--consumer-key",
            CONSUMER_KEY,
            "--consumer-secret",
            CONSUMER_SECRET,
            *flags,
        ],
        log=log,
    )
    _running[name] = process
    found: list[str] = []

    def listening() -> bool:
        match = _LISTENING.search(log.read_text(errors="replace")) if log.exists() else None
        if match:
            found.append(match.group(1))
        return bool(match)

    try:
        wait_until(listening, timeout=WAIT, what=f"{name} to listen", process=process)
        wait_for_http(f"{found[0]}/emulator/health", timeout=WAIT, process=process)
    except BaseException:
        stop(process)
        raise
    return process, found[0]


def database_url(db: dict[str, Any]) -> str:
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


class EmulatorClient:
    """The emulator's control API (/emulator/...)."""

    def __init__(self, url: str, process: Process) -> None:
        self.url = url
        self.process = process
        self.http = httpx.Client(base_url=url, timeout=WAIT + 10)

    def get(self, path: str, **params: str) -> Any:
        reply = self.http.get(path, params=params)
        assert reply.status_code == 200, f"GET {path}: {reply.status_code} {reply.text}"
        return reply.json() if "json" in reply.headers.get("content-type", "") else reply.text

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        reply = self.http.post(path, json=body or {})
        assert reply.status_code == 200, f"POST {path} {body}: {reply.status_code} {reply.text}"
        return reply.json()

    def reset(self) -> None:
        self.post("/emulator/reset")

    def shortcode(self, number: str, **settings: Any) -> dict[str, Any]:
        return self.post("/emulator/shortcodes", {"shortcode": number, **settings})["shortcode"]

    def pay(
        self,
        shortcode: str,
        *,
        amount: int = 100,
        msisdn: str = "254708374149",
        account: str = "E2E",
        **options: Any,
    ) -> dict[str, Any]:
        """/emulator/simulate, waiting until the callbacks are done; returns the ledger entry."""
        reply = self.post(
            "/emulator/simulate",
            {
                "ShortCode": shortcode,
                "CommandID": "CustomerPayBillOnline",
                "Amount": amount,
                "Msisdn": msisdn,
                "BillRefNumber": account,
                "wait": True,
                "wait_timeout": WAIT,
                **options,
            },
        )
        assert reply.get("finished"), f"the emulator did not finish the payment in time: {reply}"
        return reply["transaction"]

    def ledger(self, trans_id: str) -> dict[str, Any]:
        return self.get(f"/emulator/ledger/{trans_id}")

    def transactions(self, shortcode: str) -> list[dict[str, Any]]:
        return self.get("/emulator/ledger", shortcode=shortcode)["transactions"]

    def wait_idle(self) -> None:
        wait_until(
            lambda: self.get("/emulator/health")["background_threads"] == 0,
            timeout=WAIT,
            what="the emulator to finish its callbacks",
            process=self.process,
        )


class Stack:
    """The running product and emulator, and the ways a test drives them."""

    def __init__(
        self,
        emulator: EmulatorClient,
        web: Process,
        capture: Process,
        app_url: str,
        env: dict[str, str],
    ) -> None:
        self.emulator = emulator
        self.web = web
        self.capture = capture
        self.app_url = app_url
        self.env = env

    def pay(self, shortcode: str, **kwargs: Any) -> dict[str, Any]:
        """A customer pays through the emulator; returns once the app has captured it."""
        tx = self.emulator.pay(shortcode, **kwargs)
        self.wait_captured()
        return tx

    def settle(self) -> None:
        """Wait until the emulator has sent every callback and the app has captured them."""
        self.emulator.wait_idle()
        self.wait_captured()

    def wait_captured(self) -> None:
        """Wait until no confirmation the app answered is waiting for the capture worker."""
        from capture.selectors import capture_queue

        self.wait_for(lambda: not capture_queue().exists(), "the capture worker to catch up")

    def callback_url(self, kind: str) -> str:
        return f"{self.app_url}/api/v1/c2b/{CALLBACK_TOKEN}/{kind}"

    def manage(self, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
        """Run ``manage.py`` as a subprocess with the product's environment (plus ``env``)."""
        result = manage(*args, env={**self.env, **env}, check=False)
        if check:
            assert result.returncode == 0, (
                f"manage.py {' '.join(args)} exited {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\n{self.logs()}"
            )
        return result

    def logs(self) -> str:
        return logs_of(self.emulator.process, self.web, self.capture)

    def wait_for(self, check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
        """Poll ``check`` until it returns something truthy; fail with the process logs."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(f"Timed out after {timeout:.0f}s waiting for {what}.\n{self.logs()}")
            time.sleep(0.1)


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def e2e_logs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("e2e-logs")


@pytest.fixture(scope="session")
def e2e_database(django_db_setup, django_db_blocker) -> str:
    """DATABASE_URL of the test database pytest-django created, for the child processes."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("end-to-end tests need PostgreSQL (the SQLite test database is in memory)")
    return database_url(db)


@pytest.fixture(scope="session")
def emulator_process(e2e_logs) -> Iterator[EmulatorClient]:
    process, url = start_emulator("emulator", e2e_logs / "emulator.log")
    client = EmulatorClient(url, process)
    yield client
    client.http.close()
    stop(process)


@pytest.fixture(scope="session")
def product_env(e2e_database, emulator_process, e2e_logs) -> dict[str, str]:
    port = free_port()
    # M-Pesa's certificate, as a SACCO downloads it from the Daraja portal: the emulator's.
    certificate = e2e_logs / "mpesa-sandbox.pem"
    certificate.write_bytes(emulator_process.http.get("/emulator/certificate.pem").content)
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SECURE_COOKIES": "false",
        "DATABASE_URL": e2e_database,
        "C2B_CALLBACK_TOKEN": CALLBACK_TOKEN,
        "C2B_CALLBACK_BASE_URL": f"http://127.0.0.1:{port}",
        "C2B_ALLOWED_IPS": "127.0.0.1",
        "DARAJA_BASE_URL": emulator_process.url,
        "DARAJA_CONSUMER_KEY": CONSUMER_KEY,
        "DARAJA_CONSUMER_SECRET": CONSUMER_SECRET,
        "DARAJA_ALLOW_LOCAL_CALLBACKS": "true",
        "DARAJA_INITIATOR_NAME": INITIATOR,
        "DARAJA_INITIATOR_PASSWORD": INITIATOR_PASSWORD,
        "DARAJA_SANDBOX_CERTIFICATE": str(certificate),
        "DARAJA_PULL_NOMINATED_NUMBER": "254708374149",
        "SMS_BACKEND": "console",
        "C2B_CAPTURE_POLL_MS": "100",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        "PORT": str(port),
    }


@pytest.fixture(scope="session")
def web_process(product_env, e2e_logs) -> Iterator[tuple[Process, str]]:
    port = product_env["PORT"]
    web = Process(
        "web",
        web_command(port=int(port), workers=2, access_log=True, host="127.0.0.1"),
        env=product_env,
        log=e2e_logs / "web.log",
    )
    _running["web"] = web
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/healthz", timeout=WAIT + 10, process=web)
    except BaseException:
        stop(web)
        raise
    yield web, url
    stop(web)


@pytest.fixture(scope="session")
def capture_process(product_env, e2e_logs) -> Iterator[Process]:
    worker = Process(
        "capture-worker",
        [sys.executable, "manage.py", "capture_worker", "--verbosity", "2"],
        env=product_env,
        log=e2e_logs / "capture.log",
    )
    _running["capture-worker"] = worker
    yield worker
    stop(worker)


@pytest.fixture
def stack(
    transactional_db, emulator_process, web_process, capture_process, product_env
) -> Iterator[Stack]:
    """A reset emulator and an empty database (emptied again after the test)."""
    web, url = web_process
    assert web.alive(), f"the web app died:\n{web.tail()}"
    assert capture_process.alive(), f"the capture worker died:\n{capture_process.tail()}"
    emulator_process.wait_idle()
    emulator_process.reset()
    stack = Stack(emulator_process, web, capture_process, url, product_env)
    yield stack
    # Let late callbacks land and be captured before the tables are emptied for the next test.
    stack.settle()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and _running:
        for name, process in list(_running.items()):
            report.sections.append((f"{name} log (tail)", process.tail(60)))

"""``make serve``: the web server with the capture and SMS workers beside it, in the foreground.

The product is three kinds of process: the web server (callbacks and staff pages), at least one
capture worker (confirmations become payments) and at least one SMS worker. In production each
is its own service (README, "Running it"; ``python -m config.serve web`` runs the web server
alone); this runs one of each on one machine, the way ``make bench`` measures it. Ctrl-C or
SIGTERM stops all three; if one of them dies, the others are stopped too and the exit status
says so, so a supervisor restarts the lot.

The web server is uWSGI (pyuwsgi's wheels), chosen by measuring (docs/decisions.md #12). Its
knobs come from the environment: ``HOST`` (127.0.0.1: behind a proxy on the same host; ``0.0.0.0``
in a container), ``PORT`` (8000), ``WEB_CONCURRENCY`` (worker processes, three per CPU),
``WEB_ACCESS_LOG`` (off); any other uWSGI option through its own ``UWSGI_*`` variables.

uWSGI prints request paths in its own error lines (a client that resets the connection, SIGPIPE,
harakiri), even with its access log off, and the callback token is in the path. So it never
writes to the terminal or journal directly: ``web_command`` runs it under ``redacted`` (below),
which passes every line it prints through the same redaction as the app's own logs.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from config.env import env_bool, env_int, env_list, env_str  # noqa: E402
from core.redaction import redact  # noqa: E402
from core.workers import stop_on_signals  # noqa: E402

# The SMS worker runs at a lower CPU priority than the web server: M-Pesa waits for the
# callback's answer, a receipt SMS sent a second later loses nothing. The capture worker does
# not: under sustained load a niced worker was starved and payments waited minutes. It paces
# itself instead, resting while the backlog is young, and runs as a batch process (Linux
# SCHED_BATCH): the same share of the CPUs, but it never preempts the web server's answers
# (docs/decisions.md #11, #18).
WORKER_NICE = 10


def web_command(
    *,
    port: int | None = None,
    workers: int | None = None,
    access_log: bool | None = None,
    host: str | None = None,
) -> list[str]:
    """The web server as production runs it, its output redacted; arguments override the
    environment."""
    server = uwsgi_command(port=port, workers=workers, access_log=access_log, host=host)
    return [sys.executable, "-m", "config.serve", "redacted", "--", *server]


def uwsgi_command(
    *,
    port: int | None = None,
    workers: int | None = None,
    access_log: bool | None = None,
    host: str | None = None,
) -> list[str]:
    """uWSGI's own command line (``web_command`` runs it with its output redacted)."""
    # Plain HTTP for the TLS proxy in front (docs/operations.md): on loopback unless told.
    host = env_str("HOST", "127.0.0.1") if host is None else host
    port = env_int("PORT", 8000) if port is None else port
    # Three per CPU, measured: while one waits for PostgreSQL, another has the CPU.
    workers = env_int("WEB_CONCURRENCY", 3 * (os.cpu_count() or 1)) if workers is None else workers
    access_log = env_bool("WEB_ACCESS_LOG", False) if access_log is None else access_log
    return [
        str(BIN / "uwsgi"),
        *("--http-socket", f"{host}:{port}", "--module", "config.wsgi:application"),
        # A master that forks one-threaded workers, each loading the app itself: the callback
        # path is CPU-bound Python, so threads would only queue on the GIL.
        *("--master", "--processes", str(workers), "--lazy-apps", "--need-app"),
        # Workers take turns to accept, so a connection goes to a worker that is free: this is
        # what keeps the slowest answers close to the typical ones (docs/benchmarks.md).
        "--thunder-lock",
        *("--listen", "1024"),
        # A request still running after 30 s is stuck (M-Pesa gave up long before): the worker is
        # replaced. SIGTERM stops the server (uWSGI would otherwise reload).
        *("--harakiri", "30", "--die-on-term"),
        # The http-socket closes every connection after its answer; say so to the client.
        *("--add-header", "Connection: close"),
        # Access lines duplicate what the proxy logs and would print the callback token.
        *(() if access_log else ("--disable-logging",)),
    ]


def worker_command(name: str, *, nice: int = WORKER_NICE, batch: bool = False) -> list[str]:
    """``manage.py <name>``, at the workers' lower priority unless ``nice=0``; ``batch``: as a
    batch process, where ``chrt`` (util-linux) can make it one."""
    command = [sys.executable, str(ROOT / "manage.py"), name]
    if nice:
        command = ["nice", "-n", str(nice), *command]
    if batch and shutil.which("chrt"):
        command = ["chrt", "--batch", "0", *command]
    return command


def commands() -> dict[str, list[str]]:
    return {
        "web": web_command(),
        "capture-worker": worker_command("capture_worker", nice=0, batch=True),
        "sms-worker": worker_command("sms_worker"),
    }


def main() -> int:
    status = 0
    with stop_on_signals() as stop:
        children = {
            name: subprocess.Popen(command, cwd=ROOT)  # noqa: S603 (our own commands)
            for name, command in commands().items()
        }
        while not stop.is_set():
            dead = {name: p.returncode for name, p in children.items() if p.poll() is not None}
            if dead:
                for name, code in dead.items():
                    print(f"serve: {name} exited ({code}); stopping the others", file=sys.stderr)
                status = 1
                break
            stop.wait(0.5)
        for process in children.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in children.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return status


def secrets_in_environment() -> list[str]:
    """The secret path tokens this deployment uses, to be blanked wherever they appear."""
    return env_list("C2B_CALLBACK_TOKEN") + env_list("SMS_DELIVERY_REPORT_TOKEN")


def redacted(command: list[str]) -> int:
    """Run ``command`` with everything it prints (stdout and stderr, line by line) passed through
    ``core.redaction.redact`` onto our stderr. SIGTERM, SIGINT and SIGHUP are passed on to it;
    returns its exit status."""
    secrets = secrets_in_environment()
    child = subprocess.Popen(  # noqa: S603 (our own server, no shell)
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    forward = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
    previous = {
        sig: signal.signal(sig, lambda signum, _: child.send_signal(signum)) for sig in forward
    }
    try:
        assert child.stdout is not None
        for line in iter(child.stdout.readline, b""):
            text = line.decode("utf-8", errors="replace")
            sys.stderr.write(redact(text, secrets=secrets))
            sys.stderr.flush()
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    os.chdir(ROOT)
    arguments = sys.argv[1:]
    if arguments == ["web"]:  # the web server alone, e.g. as its own systemd service
        sys.exit(redacted(uwsgi_command()))
    if arguments[:2] == ["redacted", "--"] and arguments[2:]:
        sys.exit(redacted(arguments[2:]))
    if arguments:
        sys.exit(f"usage: python -m config.serve [web | redacted -- COMMAND...] (got {arguments})")
    sys.exit(main())

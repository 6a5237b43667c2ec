"""``make serve``: the web server with the capture and SMS workers beside it, in the foreground.

The product is three kinds of process: the web server (callbacks and staff pages), at least one
capture worker (confirmations become payments) and at least one SMS worker. In production each
is its own service (README, "Running it"; ``python -m config.serve web`` runs the web server
alone); this runs one of each on one machine, the way ``make bench`` measures it. Ctrl-C or
SIGTERM stops all three; if one of them dies, the others are stopped too and the exit status
says so, so a supervisor restarts the lot.

The web server is granian (WSGI), chosen by measuring (docs/decisions.md #12). Its knobs come
from the environment: ``PORT`` (8000), ``WEB_CONCURRENCY`` (worker processes, two per CPU),
``WEB_ACCESS_LOG`` (off); any other granian option through its own ``GRANIAN_*`` variables.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from config.env import env_bool, env_int  # noqa: E402
from config.workers import stop_on_signals  # noqa: E402

# Workers run at a lower CPU priority than the web server: M-Pesa waits for the callback's
# answer, while a payment captured a second later loses nothing. In a burst the web server
# answers at full speed and the workers catch up as it eases (docs/decisions.md #11).
WORKER_NICE = 10


def web_command(
    *,
    port: int | None = None,
    workers: int | None = None,
    access_log: bool | None = None,
    host: str = "0.0.0.0",  # noqa: S104 (plain HTTP behind the TLS proxy: README, "Running it")
) -> list[str]:
    """The web server as production runs it; arguments override the environment."""
    port = env_int("PORT", 8000) if port is None else port
    workers = env_int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1)) if workers is None else workers
    access_log = env_bool("WEB_ACCESS_LOG", False) if access_log is None else access_log
    return [
        str(BIN / "granian"),
        *("--interface", "wsgi", "--http", "1", "--host", host, "--port", str(port)),
        # One thread per worker process: the callback path is CPU-bound Python, so more threads
        # would only queue on the GIL.
        *("--workers", str(workers), "--blocking-threads", "1"),
        # A worker that dies is replaced; a stuck one is killed after 20 s on shutdown.
        *("--respawn-failed-workers", "--workers-kill-timeout", "20"),
        # Access lines duplicate what the proxy logs and would print the callback token.
        "--access-log" if access_log else "--no-access-log",
        "config.wsgi:application",
    ]


def worker_command(name: str) -> list[str]:
    """``manage.py <name>`` at the workers' lower priority."""
    return ["nice", "-n", str(WORKER_NICE), sys.executable, str(ROOT / "manage.py"), name]


def commands() -> dict[str, list[str]]:
    return {
        "web": web_command(),
        "capture-worker": worker_command("capture_worker"),
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


if __name__ == "__main__":
    os.chdir(ROOT)
    if sys.argv[1:] == ["web"]:  # the web server alone, e.g. as its own systemd service
        command = web_command()
        os.execv(command[0], command)  # noqa: S606 (our own server, no shell)
    sys.exit(main())

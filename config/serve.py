"""``make serve``: the web server with the capture and SMS workers beside it, in the foreground.

The product is three kinds of process: the web server (callbacks and staff pages), at least one
capture worker (confirmations become payments) and at least one SMS worker. In production each
is its own service (README, "Running it in production"); this runs one of each on one machine,
the way ``make bench`` measures it. Ctrl-C or SIGTERM stops all three; if one of them dies, the
others are stopped too and the exit status says so, so a supervisor restarts the lot.
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


# Workers run at a lower CPU priority than the web server: M-Pesa waits for the callback's
# answer, while a payment captured a second later loses nothing. In a burst the web server
# answers at full speed and the workers catch up as it eases (docs/decisions.md #11).
WORKER_NICE = 10


def commands() -> dict[str, list[str]]:
    manage = ["nice", "-n", str(WORKER_NICE), sys.executable, str(ROOT / "manage.py")]
    gunicorn = [str(BIN / "gunicorn"), "--config", str(ROOT / "config" / "gunicorn.py")]
    return {
        "web": [*gunicorn, "config.wsgi"],
        "capture-worker": [*manage, "capture_worker"],
        "sms-worker": [*manage, "sms_worker"],
    }


def main() -> int:
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, request_stop)
    children = {
        name: subprocess.Popen(command, cwd=ROOT)  # noqa: S603 (our own commands)
        for name, command in commands().items()
    }
    status = 0
    while not stopping:
        dead = {name: p.returncode for name, p in children.items() if p.poll() is not None}
        if dead:
            for name, code in dead.items():
                print(f"serve: {name} exited ({code}); stopping the others", file=sys.stderr)
            status = 1
            break
        time.sleep(0.5)
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
    sys.exit(main())

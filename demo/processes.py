"""Starting and stopping the product's processes, for the demo and the end-to-end tests.

Each child runs in its own process group so that stopping it also stops whatever it started
(gunicorn's workers, for instance), and nothing is left running after Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Process:
    """A named child process with its output going to a log file (or inherited)."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        log: Path | None = None,
    ) -> None:
        self.name = name
        self.log = log
        out = open(log, "ab") if log else None  # noqa: SIM115 - lives as long as the child
        self.popen = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            list(args),
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
        )
        self._out = out

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=timeout)
        if self._out:
            self._out.close()

    def tail(self, lines: int = 30) -> str:
        if not self.log or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def wait_until(
    check: Callable[[], bool], *, timeout: float, what: str, process: Process | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and not process.alive():
            raise RuntimeError(f"{process.name} exited while waiting for {what}:\n{process.tail()}")
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.2)
    tail = f"\n{process.tail()}" if process else ""
    raise TimeoutError(f"Timed out after {timeout:.0f}s waiting for {what}.{tail}")


def wait_for_http(url: str, *, timeout: float = 30.0, process: Process | None = None) -> None:
    wait_until(
        lambda: httpx.get(url, timeout=2).status_code == 200,
        timeout=timeout,
        what=url,
        process=process,
    )


def manage(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    """Run ``manage.py`` with the given environment, capturing its output."""
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if check and result.returncode != 0:
        said = (result.stderr or result.stdout).strip()
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{said}")
    return result

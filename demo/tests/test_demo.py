"""`make demo` as a person runs it: everything starts, payments land, Ctrl-C leaves nothing."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from demo.processes import ROOT, free_port

pytestmark = pytest.mark.e2e


def _children_of(pid: int) -> set[int]:
    """Every live process whose ancestry includes ``pid`` (the demo starts its own groups)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def test_demo_runs_the_product_and_ctrl_c_stops_everything(tmp_path):
    database = tmp_path / "demo.sqlite3"
    env = {
        **os.environ,
        "DEMO_PORT": str(free_port()),
        "DEMO_EMULATOR_PORT": str(free_port()),
        "DEMO_PAYMENTS": "4",
        "DEMO_PACE": "4",
        "DEMO_DATABASE_URL": f"sqlite:///{database}",
    }
    out = tmp_path / "demo.out"
    with out.open("wb") as sink:
        demo = subprocess.Popen(
            [sys.executable, "-m", "demo"], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 120
            while (
                "keeps running until Ctrl-C" not in out.read_text() and time.monotonic() < deadline
            ):
                assert demo.poll() is None, out.read_text()
                time.sleep(0.5)
            text = out.read_text()
            assert "keeps running until Ctrl-C" in text, text
            assert "user: demo   password: " in text
            started = _children_of(demo.pid)
            assert len(started) >= 3, text  # emulator, web server (+ workers), capture, SMS workers
        finally:
            demo.send_signal(signal.SIGINT)
            demo.wait(timeout=60)

    text = out.read_text()
    assert demo.returncode == 0, text
    assert "all demo processes stopped" in text
    assert not ({p for p in started if Path(f"/proc/{p}").exists()}), "left running"
    assert "SMS to" in text  # the console backend printed receipts in the demo's terminal

    with sqlite3.connect(database) as db:
        (payments,) = db.execute("SELECT COUNT(*) FROM c2b_payment").fetchone()
        (duplicates,) = db.execute(
            "SELECT COUNT(*) FROM c2b_callbackreceipt WHERE status = 'duplicate'"
        ).fetchone()
        (rejected,) = db.execute(
            "SELECT COUNT(*) FROM c2b_validationdecision WHERE result_code = 'C2B00012'"
        ).fetchone()
    assert payments >= 3  # 3 scripted (one rejected, one dropped) + a seeded stream of 4
    # The dropped confirmation was found in M-Pesa's statement and stored, with its SMS.
    (backfilled,) = db.execute(
        "SELECT COUNT(*) FROM c2b_payment p JOIN sms_outboundsms s ON s.payment_id = p.id "
        "WHERE p.source = 'statement'"
    ).fetchone()
    assert backfilled >= 1, text
    assert "now stored with their SMS receipts" in text
    assert duplicates >= 1
    assert rejected >= 1


def test_demo_refuses_a_port_in_use_and_says_which_knob_to_turn(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "demo"],
            cwd=ROOT,
            env={
                **os.environ,
                "DEMO_PORT": str(port),
                "DEMO_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"port {port} is in use" in result.stdout
    assert "DEMO_PORT" in result.stdout
    assert not (tmp_path / "unused.sqlite3").exists()  # nothing was started or written

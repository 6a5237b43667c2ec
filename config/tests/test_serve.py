"""`make serve`: how production runs the web server and the workers beside it."""

import subprocess
import sys
import time

from config import serve


def test_web_server_takes_host_port_workers_and_access_log_from_the_environment(monkeypatch):
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "9100")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("WEB_ACCESS_LOG", "true")
    command = serve.uwsgi_command()
    assert command[0].endswith("uwsgi")
    assert command[command.index("--http-socket") + 1] == "0.0.0.0:9100"
    assert command[command.index("--processes") + 1] == "3"
    assert command[command.index("--module") + 1] == "config.wsgi:application"
    assert "--disable-logging" not in command


def test_access_log_is_off_by_default_because_callback_urls_hold_the_token(monkeypatch):
    monkeypatch.delenv("WEB_ACCESS_LOG", raising=False)
    assert "--disable-logging" in serve.uwsgi_command()


def test_the_web_server_listens_on_loopback_unless_told(monkeypatch):
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    command = serve.uwsgi_command()
    assert command[command.index("--http-socket") + 1] == "127.0.0.1:8000"


def test_the_web_server_always_runs_with_its_output_redacted():
    command = serve.web_command(port=9100)
    assert command[1:5] == ["-m", "config.serve", "redacted", "--"]
    assert command[5:] == serve.uwsgi_command(port=9100)


def test_the_sms_worker_runs_at_a_lower_priority_than_the_web_server():
    commands = serve.commands()
    assert commands["sms-worker"][:3] == ["nice", "-n", "10"]
    assert commands["sms-worker"][-1] == "sms_worker"
    assert commands["web"][0] != "nice"
    assert commands["web"] == serve.web_command()


def test_the_capture_worker_runs_at_the_web_servers_priority_as_a_batch_process(monkeypatch):
    # Niced, it was starved under sustained load and payments waited minutes; as a batch
    # process it keeps its share but never preempts an answer (decisions #18).
    monkeypatch.setattr(serve.shutil, "which", lambda name: f"/usr/bin/{name}")
    command = serve.commands()["capture-worker"]
    assert command[:3] == ["chrt", "--batch", "0"]
    assert "nice" not in command
    assert command[-1] == "capture_worker"


def test_without_chrt_the_capture_worker_still_runs(monkeypatch):
    monkeypatch.setattr(serve.shutil, "which", lambda name: None)
    command = serve.commands()["capture-worker"]
    assert command[0] == sys.executable
    assert command[-1] == "capture_worker"


def test_when_one_process_dies_the_others_are_stopped_and_serve_fails(monkeypatch):
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    monkeypatch.setattr(
        serve,
        "commands",
        lambda: {"web": sleeper, "capture-worker": [sys.executable, "-c", "raise SystemExit(3)"]},
    )
    started: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        process = real_popen(*args, **kwargs)
        started.append(process)
        return process

    monkeypatch.setattr(serve.subprocess, "Popen", recording_popen)
    began = time.monotonic()

    assert serve.main() == 1

    assert time.monotonic() - began < 15
    assert all(p.poll() is not None for p in started)


TOKEN = "fedcba9876543210fedcba9876543210"


def test_serve_web_runs_the_web_server_alone_until_sigterm_and_never_prints_the_token(tmp_path):
    import os
    import signal
    import socket
    import struct
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "test",
        "C2B_CALLBACK_TOKEN": TOKEN,
        "C2B_ALLOWED_IPS": "*",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
    }
    migrate = [sys.executable, "manage.py", "migrate", "--verbosity", "0"]
    subprocess.run(migrate, cwd=serve.ROOT, env=env, check=True)
    output = tmp_path / "web.log"
    with output.open("wb") as log:
        web = subprocess.Popen(
            [sys.executable, "-m", "config.serve", "web"],
            cwd=serve.ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert web.poll() is None, "the web server exited"
                assert time.monotonic() < deadline, "the web server did not answer"
                time.sleep(0.2)
        path = f"/api/v1/c2b/{TOKEN}/confirmation"
        # A chunked body uWSGI does not read for the app is refused, not stored empty.
        with socket.create_connection(("127.0.0.1", port)) as chunked:
            chunked.sendall(
                f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                "2\r\n{}\r\n0\r\n\r\n".encode()
            )
            assert chunked.recv(100).startswith(b"HTTP/1.1 411")
        # A client that resets the connection mid-body: uWSGI's own error lines name the path.
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{{".encode()
        )
        time.sleep(0.3)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        redacted_line = "during POST /api/v1/c2b/<token>/confirmation"
        while redacted_line not in output.read_text(errors="replace"):
            assert time.monotonic() < deadline + 10, output.read_text(errors="replace")
            time.sleep(0.2)
    finally:
        web.send_signal(signal.SIGTERM)
        assert web.wait(timeout=20) is not None
    printed = output.read_text(errors="replace")
    assert TOKEN not in printed
    assert "Connection reset by peer" in printed

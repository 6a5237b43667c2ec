"""`make serve`: how production runs the web server and the workers beside it."""

import subprocess
import sys
import time

from config import serve


def test_web_server_takes_port_workers_and_access_log_from_the_environment(monkeypatch):
    monkeypatch.setenv("PORT", "9100")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("WEB_ACCESS_LOG", "true")
    command = serve.web_command()
    assert command[0].endswith("uwsgi")
    assert command[command.index("--http-socket") + 1] == "0.0.0.0:9100"
    assert command[command.index("--processes") + 1] == "3"
    assert command[command.index("--module") + 1] == "config.wsgi:application"
    assert "--disable-logging" not in command


def test_access_log_is_off_by_default_because_callback_urls_hold_the_token(monkeypatch):
    monkeypatch.delenv("WEB_ACCESS_LOG", raising=False)
    assert "--disable-logging" in serve.web_command()


def test_workers_run_at_a_lower_priority_than_the_web_server():
    commands = serve.commands()
    assert commands["capture-worker"][:3] == ["nice", "-n", "10"]
    assert commands["capture-worker"][-1] == "capture_worker"
    assert commands["sms-worker"][-1] == "sms_worker"
    assert commands["web"][0] != "nice"


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


def test_serve_web_runs_the_web_server_alone_until_sigterm(tmp_path):
    import os
    import signal
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
    }
    migrate = [sys.executable, "manage.py", "migrate", "--verbosity", "0"]
    subprocess.run(migrate, cwd=serve.ROOT, env=env, check=True)
    web = subprocess.Popen(
        [sys.executable, "-m", "config.serve", "web"],
        cwd=serve.ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
    finally:
        web.send_signal(signal.SIGTERM)
        assert web.wait(timeout=20) is not None

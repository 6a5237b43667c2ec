"""Gunicorn, as ``make serve`` runs it: plain HTTP on 0.0.0.0:$PORT behind the TLS proxy.

The worker class and count were chosen by measuring the capture path on a 2-core machine
(``make bench``; numbers in docs/benchmarks.md, "Capture"). Every knob can be overridden from the
environment without editing this file:

- ``PORT`` (8000), ``WEB_CONCURRENCY`` (worker processes, default two per CPU),
  ``GUNICORN_WORKER_CLASS`` (sync, or gthread), ``GUNICORN_THREADS`` (per worker, gthread only),
  ``GUNICORN_TIMEOUT`` (30 s), ``GUNICORN_ACCESS_LOG`` (off).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Gunicorn reads this file before it puts the project on sys.path; the typed helpers live there.
_PROJECT = str(Path(__file__).resolve().parent.parent)
if _PROJECT not in sys.path:
    sys.path.insert(0, _PROJECT)

from config.env import env_bool, env_choice, env_int  # noqa: E402

bind = f"0.0.0.0:{env_int('PORT', 8000)}"

# Measured (docs/benchmarks.md, "Capture"): the capture path is CPU-bound Python, so sync
# workers, two per core, beat gthread (threads only queue on the GIL: lower throughput, p99 about
# twice as long) and match granian and uWSGI within the noise. nginx in front opens a new upstream
# connection per request and buffers slow clients, which is the traffic sync workers are made for.
worker_class = env_choice("GUNICORN_WORKER_CLASS", {"sync", "gthread"}, "sync")
workers = env_int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1))
threads = env_int("GUNICORN_THREADS", 1)

# M-Pesa gives up on a callback after a few seconds; a request still running after 30 s is stuck.
timeout = env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 20
keepalive = 5

# Gunicorn 27's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl), so two
# instances on one host (web + bench, or e2e runs) would take it over from each other.
control_socket_disable = True

# Access lines duplicate what the proxy logs and cost CPU on every callback: off unless asked for.
accesslog = "-" if env_bool("GUNICORN_ACCESS_LOG", False) else None
errorlog = "-"
loglevel = "info"

"""Capture benchmark: callbacks against the app as production runs it (PostgreSQL), in three
parts (``--parts``): the burst below; validation beside confirmation (bench/validation.py); and
payments stored per second under sustained load (bench/sustained.py).

The burst: for every server variant, a fresh database cloned from a migrated template (shortcode
600984, 5,000 members), the server started the way ``make serve`` starts it (uWSGI,
config/serve.py; gunicorn and granian for comparison) with a capture worker beside it, a
warm-up, then a closed loop of 16 connections sending real-shaped confirmation bodies, most with a
new TransID and a share that are byte-for-byte redeliveries of earlier ones. Once the capture
worker has caught up, the database is asked whether every unique TransID is stored exactly once
and every redelivery left a ``duplicate`` receipt. The minimal baseline (bench/baseline) is
measured the same way.

The client shares the machine's CPUs, so each run also reports CPU per request for the server,
its PostgreSQL backends, the client and everything else; a run disturbed by other processes is
repeated (``--max-other``, ``--attempts``)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench import loadgen
from config.serve import web_command

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PAYLOAD = ROOT / "c2b" / "tests" / "payloads" / "confirmation_v2_masked.json"
RESULTS = ROOT / "bench-results"
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_BASE = PG_ADMIN.rsplit("/", 1)[0]
APP_DB, BASELINE_DB = "neno_bench", "neno_bench_baseline"
APP_TEMPLATE, BASELINE_TEMPLATE = "neno_bench_tpl", "neno_bench_baseline_tpl"
TOKEN = "bench-" + secrets.token_urlsafe(24)
SHORTCODE = "600984"
# Validation's paybills (bench/validation.py): amount limits on SHORTCODE, and the member rule too.
AMOUNT_LIMITS = ("--min-amount", "10", "--max-amount", "150000")
MEMBER_SHORTCODE = "600985"
ACCEPTED = b'"ResultCode": 0'

# Targets from the capture-core issue.
TARGET_P99_MS = 25.0
CONNECTIONS = 16
# Settings given to the app's processes (--app-env), e.g. to measure another capture pacing.
APP_ENV: dict[str, str] = {}
# Members seeded for the matching and SMS steps; account numbers in the bodies run a little past
# them, so about one payment in ten matches no member.
MEMBERS = 5000


@dataclass(frozen=True)
class Variant:
    name: str
    project: str  # "app" or "baseline"
    server: str  # "production", a gunicorn worker class ("sync", "gthread"), "granian", "uwsgi"
    workers: int
    threads: int = 1
    extra: tuple[str, ...] = ()  # more server arguments

    @property
    def label(self) -> str:
        if self.server == "production":
            return f"{self.project:8} uwsgi {production_workers()}w (make serve)"
        if self.server in ("sync", "gthread"):
            text = f"gunicorn {self.server} {self.workers}w"
        else:
            text = f"{self.server} {self.workers}w"
        if self.threads > 1:
            text += f"x{self.threads}t"
        if self.extra:
            text += " " + " ".join(self.extra)
        return f"{self.project:8} {text}"

    @property
    def available(self) -> bool:
        binary = {"sync": "gunicorn", "gthread": "gunicorn", "production": "uwsgi"}
        return (BIN / binary.get(self.server, self.server)).exists()

    def command(self, port: int) -> list[str]:
        wsgi = "config.wsgi" if self.project == "app" else "bench.baseline.wsgi"
        if self.server == "production":
            # Exactly what `make serve` runs (config/serve.py), on another port.
            return web_command(port=port)
        if self.server == "granian":
            return [
                str(BIN / "granian"),
                *("--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port)),
                *("--workers", str(self.workers), "--blocking-threads", str(self.threads)),
                *("--no-access-log", "--log-level", "warning", *self.extra),
                f"{wsgi}:application",
            ]
        if self.server == "uwsgi":
            return [
                str(BIN / "uwsgi"),
                *("--http-socket", f"127.0.0.1:{port}", "--module", f"{wsgi}:application"),
                *("--master", "--processes", str(self.workers), "--threads", str(self.threads)),
                *("--die-on-term", "--need-app", "--disable-logging", "--listen", "128"),
                # uWSGI's http-socket does not keep connections alive, but does not say so.
                *("--add-header", "Connection: close", *self.extra),
            ]
        return [
            str(BIN / "gunicorn"),
            *("--bind", f"127.0.0.1:{port}", "--worker-class", self.server),
            *("--workers", str(self.workers), "--threads", str(self.threads)),
            # Gunicorn 27's control socket is one path per user: parallel runs would share it.
            *("--timeout", "30", "--keep-alive", "5", "--no-control-socket"),
            wsgi,
        ]


# The yardstick: a one-INSERT Django handler on gunicorn with 4 sync workers.
BASELINE = Variant("baseline-sync4", "baseline", "sync", 4)
# What `make serve` runs (config/serve.py, no overrides). The verdict is about this one.
PRODUCTION = Variant("app-production", "app", "production", 0)
# The alternatives measured by default; the rest of VARIANTS with --variants all.
ALTERNATIVES = ["app-sync4", "app-gthread4x1", "app-granian4x1", "app-uwsgi4", "app-uwsgi8"]
VARIANTS = [
    Variant("app-sync2", "app", "sync", 2),
    Variant("app-sync4", "app", "sync", 4),
    Variant("app-sync6", "app", "sync", 6),
    Variant("app-gthread2x4", "app", "gthread", 2, 4),
    Variant("app-gthread4x1", "app", "gthread", 4, 1),
    Variant("app-granian2x2", "app", "granian", 2, 2),
    Variant("app-granian3x1", "app", "granian", 3, 1),
    Variant("app-granian4x1", "app", "granian", 4, 1),
    Variant("app-granian6x1", "app", "granian", 6, 1),
    Variant("app-granian8x1", "app", "granian", 8, 1),
    Variant("app-granian12x1", "app", "granian", 12, 1),
    Variant("app-granian16x1", "app", "granian", 16, 1),
    Variant("app-granian4x1-close", "app", "granian", 4, 1, ("--no-http1-keep-alive",)),
    Variant("app-uwsgi4", "app", "uwsgi", 4),
    Variant("app-uwsgi3", "app", "uwsgi", 3),
    Variant("app-uwsgi6", "app", "uwsgi", 6),
    Variant("app-uwsgi8", "app", "uwsgi", 8),
    Variant("app-uwsgi4-tl", "app", "uwsgi", 4, 1, ("--thunder-lock",)),
    Variant("baseline-granian4x1", "baseline", "granian", 4, 1),
]


def production_workers() -> int:
    """WEB_CONCURRENCY as `make serve` would read it here (config/serve.py's default)."""
    command = web_command()
    return int(command[command.index("--processes") + 1])


@dataclass
class Outcome:
    variant: Variant
    result: loadgen.Result
    unique_sent: int
    duplicates_sent: int
    payments: int
    receipts: dict[str, int]
    server_cpu_s: float
    postgres_cpu_s: float
    busy_cpu_s: float
    # App only: seconds from the last answer until the capture worker had stored every payment.
    drain_s: float = 0.0
    # CPU seconds used outside the benchmark's processes while the load ran (not the drain).
    load_other_cpu_s: float = 0.0

    attempts: int = 1

    @property
    def captured_per_s(self) -> float:
        """Confirmations captured per second, end to end: from the first request sent to the
        last payment stored (answering and capturing share the same two cores)."""
        total = self.result.wall_s + self.drain_s
        return self.result.count / total if total else 0.0

    @property
    def other_share(self) -> float:
        """Share of the machine's CPU capacity used by processes outside the benchmark while the
        load ran (the drain after it is the capture worker's, with PostgreSQL's writers)."""
        r = self.result
        return (
            max(0.0, self.load_other_cpu_s) / (r.wall_s * (os.cpu_count() or 1))
            if r.wall_s
            else 0.0
        )

    @property
    def consistent(self) -> bool:
        if self.variant.project == "baseline":
            return self.payments == self.unique_sent + self.duplicates_sent
        return (
            self.payments == self.unique_sent
            and self.receipts.get("processed", 0) == self.unique_sent
            and self.receipts.get("duplicate", 0) == self.duplicates_sent
            and sum(self.receipts.values()) == self.unique_sent + self.duplicates_sent
        )

    @property
    def clean(self) -> bool:
        r = self.result
        return not r.errors and r.bad_bodies == 0 and self.consistent

    def row(self) -> dict:
        r = self.result
        n = r.count or 1
        return {
            "variant": self.variant.name,
            "label": self.variant.label,
            "requests": r.count,
            "unique": self.unique_sent,
            "duplicates": self.duplicates_sent,
            "rps": round(r.rps, 1),
            "captured_per_s": round(self.captured_per_s, 1),
            "drain_s": round(self.drain_s, 2),
            **r.latency_ms(),
            "errors": r.failures,
            "stored": self.payments,
            "receipts": self.receipts,
            "consistent": self.consistent,
            "connects": r.connects,
            "statuses": r.statuses,
            "cpu_ms_per_req": {
                "server": round(self.server_cpu_s * 1000 / n, 2),
                "postgres": round(self.postgres_cpu_s * 1000 / n, 2),
                "loadgen": round(r.client_cpu_s * 1000 / n, 2),
                "other": round(
                    (self.busy_cpu_s - self.server_cpu_s - self.postgres_cpu_s - r.client_cpu_s)
                    * 1000
                    / n,
                    2,
                ),
            },
            "other_cpu_share": round(self.other_share, 3),
            "attempts": self.attempts,
            "cpu_busy_pct": round(100 * self.busy_cpu_s / (r.wall_s * (os.cpu_count() or 1)), 1),
        }


# --- PostgreSQL -------------------------------------------------------------------------------


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def _drop(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _clone(template: str, name: str) -> None:
    _drop(name)
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def _url(name: str) -> str:
    return f"{PG_BASE}/{name}"


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def prepare_templates() -> None:
    for name in (APP_TEMPLATE, BASELINE_TEMPLATE):
        _drop(name)
        _admin(f'CREATE DATABASE "{name}"')
    _manage(_env("app", APP_TEMPLATE), "migrate", "--noinput")
    app = _env("app", APP_TEMPLATE)
    _manage(app, "shortcode", "add", SHORTCODE, "--name", "Bench paybill", *AMOUNT_LIMITS)
    _manage(app, "shortcode", "add", MEMBER_SHORTCODE, *AMOUNT_LIMITS, "--require-active-member")
    if (ROOT / "members" / "management" / "commands" / "import_members.py").exists():
        _manage(_env("app", APP_TEMPLATE), "import_members", str(_members_csv()), "--no-progress")
    _manage(_env("baseline", BASELINE_TEMPLATE), "migrate", "--run-syncdb", "--noinput")


def _members_csv() -> Path:
    """MEMBERS members, NS00001 upwards, each with a phone the bodies' masked MSISDN fits."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "members.csv"
    lines = ["member_number,name,phone,status"]
    lines += [f"NS{i:05d},Member {i},2547{i:05d}126,active" for i in range(1, MEMBERS + 1)]
    path.write_text("\n".join(lines) + "\n")
    return path


def drop_all() -> None:
    for name in (APP_DB, BASELINE_DB, APP_TEMPLATE, BASELINE_TEMPLATE):
        _drop(name)


def _counts(variant: Variant, prefix: str) -> tuple[int, dict[str, int]]:
    with psycopg.connect(_url(_db(variant))) as conn:
        if variant.project == "baseline":
            row = conn.execute(
                "SELECT count(*) FROM baseline_confirmation WHERE trans_id LIKE %s", [prefix + "%"]
            ).fetchone()
            return row[0], {}
        payments = conn.execute(
            "SELECT count(*) FROM c2b_payment WHERE trans_id LIKE %s", [prefix + "%"]
        ).fetchone()[0]
        receipts = dict(
            conn.execute(
                "SELECT status, count(*) FROM c2b_callbackreceipt WHERE trans_id LIKE %s "
                "GROUP BY status",
                [prefix + "%"],
            ).fetchall()
        )
        return payments, receipts


def _db(variant: Variant) -> str:
    return APP_DB if variant.project == "app" else BASELINE_DB


# --- the server -------------------------------------------------------------------------------


def _env(project: str, db: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "C2B_", "GUNICORN_"))
    }
    env.update(
        DATABASE_URL=_url(db),
        DJANGO_SECRET_KEY="bench-" + "x" * 50,
        C2B_CALLBACK_TOKEN=TOKEN,
        C2B_ALLOWED_IPS="*",
        DJANGO_SETTINGS_MODULE="config.settings" if project == "app" else "bench.baseline.settings",
        PYTHONDONTWRITEBYTECODE="1",
    )
    if project == "app":
        env.update(APP_ENV)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def capture_worker_commands() -> list[list[str]]:
    """The capture workers exactly as `make serve` (config/serve.py) starts them."""
    from config.serve import commands

    return [command for name, command in commands().items() if name.startswith("capture-worker")]


@contextlib.contextmanager
def serve(variant: Variant, log: Path) -> Iterator[tuple[int, list[subprocess.Popen]]]:
    """The server, plus for the app the capture worker `make serve` runs beside it."""
    port = _free_port()
    env = _env(variant.project, _db(variant))
    env.update(PORT=str(port))
    commands = [variant.command(port)]
    if variant.project == "app":
        commands += capture_worker_commands()
    with log.open("w") as out:
        procs = [
            subprocess.Popen(  # noqa: S603 (our own servers and arguments)
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
            for command in commands
        ]
        try:
            _wait_listening(port, procs[0], log)
            yield port, procs
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _wait_listening(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}; see {log}")
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        time.sleep(0.2)
    raise RuntimeError(f"the server did not listen on {port} within 30 s; see {log}")


def _tree_cpu_s(pid: int) -> float:
    """User+system CPU seconds of a server: its master process and every worker below it."""
    children: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += [int(c) for c in (task / "children").read_text().split()]
    return _proc_cpu_s(pid) + sum(_tree_cpu_s(c) for c in children)


def _postgres_cpu_s(db: str) -> float:
    """CPU seconds of the PostgreSQL backends serving ``db`` (the server's own connections)."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        pids = [
            r[0]
            for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [db]
            ).fetchall()
        ]
    return sum(_proc_cpu_s(pid) for pid in pids)


def _proc_cpu_s(pid: int) -> float:
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _busy_cpu_s() -> float:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --- the load ---------------------------------------------------------------------------------


def bodies(prefix: str, count: int, dup_share: float, seed: int) -> tuple[list[bytes], int, int]:
    """``count`` confirmation bodies: new TransIDs, and redeliveries of ones sent >= 64 earlier."""
    template = json.loads(PAYLOAD.read_text())
    rng = random.Random(seed)
    unique: list[bytes] = []
    out: list[bytes] = []
    for _ in range(count):
        if len(unique) > 64 and rng.random() < dup_share:
            out.append(unique[rng.randrange(len(unique) - 64)])
            continue
        data = dict(template)
        data["TransID"] = f"{prefix}{len(unique):07d}"
        data["TransAmount"] = f"{rng.randrange(50, 150_000)}.00"
        data["BillRefNumber"] = f"NS {rng.randrange(1, MEMBERS * 11 // 10):05d}"
        body = json.dumps(data).encode()
        unique.append(body)
        out.append(body)
    return out, len(unique), count - len(unique)


def measure(
    variant: Variant, *, requests: int, warmup: int, dup_share: float, capture_paused: bool = False
) -> Outcome:
    _clone(APP_TEMPLATE if variant.project == "app" else BASELINE_TEMPLATE, _db(variant))
    run_prefix = "T" + secrets.token_hex(3).upper()
    path = f"/api/v1/c2b/{TOKEN}/confirmation"
    RESULTS.mkdir(exist_ok=True)
    with serve(variant, RESULTS / f"{variant.name}.log") as (port, procs):
        raw = [
            loadgen.request_bytes("127.0.0.1", port, path, b)
            for b in bodies(run_prefix + "W", warmup, dup_share, seed=1)[0]
        ]
        loadgen.run(host="127.0.0.1", port=port, requests=raw, connections=CONNECTIONS, expect=b"")
        _wait_captured(variant, run_prefix + "W")
        sent, unique, dups = bodies(run_prefix + "M", requests, dup_share, seed=2)
        raw = [loadgen.request_bytes("127.0.0.1", port, path, b) for b in sent]
        db = _db(variant)
        server0 = sum(_tree_cpu_s(p.pid) for p in procs)
        pg0, busy0 = _postgres_cpu_s(db), _busy_cpu_s()
        if capture_paused:
            for worker in procs[1:]:
                worker.send_signal(signal.SIGSTOP)
        result = loadgen.run(
            host="127.0.0.1", port=port, requests=raw, connections=CONNECTIONS, expect=ACCEPTED
        )
        load_other = (
            _busy_cpu_s()
            - busy0
            - (sum(_tree_cpu_s(p.pid) for p in procs) - server0)
            - (_postgres_cpu_s(db) - pg0)
            - result.client_cpu_s
        )
        if capture_paused:
            for worker in procs[1:]:
                worker.send_signal(signal.SIGCONT)
        drain = _wait_captured(variant, run_prefix + "M")
        # CPU until the last payment is stored: the capture worker's share is part of the cost.
        server_cpu = sum(_tree_cpu_s(p.pid) for p in procs) - server0
        pg_cpu = _postgres_cpu_s(db) - pg0
        busy_cpu = _busy_cpu_s() - busy0
    payments, receipts = _counts(variant, run_prefix + "M")
    return Outcome(
        variant,
        result,
        unique,
        dups,
        payments,
        receipts,
        server_cpu,
        pg_cpu,
        busy_cpu,
        drain,
        load_other,
    )


def _wait_captured(variant: Variant, prefix: str, timeout: float = 300.0) -> float:
    """Seconds until no confirmation of this run waits for the capture worker (app only)."""
    if variant.project != "app":
        return 0.0
    started = time.monotonic()
    with psycopg.connect(_url(_db(variant)), autocommit=True) as conn:
        while time.monotonic() - started < timeout:
            waiting = conn.execute(
                "SELECT count(*) FROM c2b_callbackreceipt WHERE status = 'received' "
                "AND trans_id LIKE %s",
                [prefix + "%"],
            ).fetchone()[0]
            if not waiting:
                return time.monotonic() - started
            time.sleep(0.02)
    raise RuntimeError(f"confirmations still waiting for capture after {timeout:.0f} s")


def _measure_quietly(variant: Variant, args: argparse.Namespace) -> Outcome:
    """Measure; when other processes took a big share of the CPUs meanwhile, measure again.

    The machine is shared (tests, other services): a run where something else used more than
    ``--max-other`` of the CPU capacity says little about the server, so up to ``--attempts``
    runs are made and the least disturbed one is kept.
    """
    best: Outcome | None = None
    for attempt in range(1, args.attempts + 1):
        outcome = measure(
            variant,
            requests=args.requests,
            warmup=args.warmup,
            dup_share=args.duplicates,
            capture_paused=args.capture_paused,
        )
        outcome.attempts = attempt
        if best is None or outcome.other_share < best.other_share:
            best = outcome
        if outcome.other_share <= args.max_other:
            break
        print(
            f"  ({variant.name}: other processes used {outcome.other_share:.0%} of the CPUs "
            "during the run; measuring again)",
            flush=True,
        )
        time.sleep(3)
    assert best is not None
    return best


# --- report -----------------------------------------------------------------------------------


def _print_row(o: Outcome) -> None:
    row = o.row()
    cpu = row["cpu_ms_per_req"]
    dup_receipts = row["receipts"].get("duplicate", "-") if o.variant.project == "app" else "-"
    print(
        f"{o.variant.label:48} {row['rps']:8.1f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} "
        f"{row['captured_per_s']:10.1f} "
        f"{row['stored']:>7}/{row['unique'] if o.variant.project == 'app' else row['requests']:<7}"
        f" {dup_receipts!s:>5} {row['errors']:>4}  {'yes' if o.clean else 'NO'}"
        f"  {cpu['server']:5.2f} {cpu['postgres']:5.2f} {cpu['loadgen']:5.2f} {cpu['other']:5.2f}",
        flush=True,
    )


def _header() -> None:
    print(
        f"{'variant':48} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'captured/s':>10} "
        f"{'stored/unique':>15} "
        f"{'dups':>5} {'err':>4}  ok   CPU ms/request: app    pg   gen other",
        flush=True,
    )


def machine() -> dict:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = 0.0
    with contextlib.suppress(OSError):
        mem = round(int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024, 1)
    with psycopg.connect(PG_ADMIN) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    import django
    import granian
    import gunicorn

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "model": model,
        "mem_gib": mem,
        "python": platform.python_version(),
        "django": django.get_version(),
        "granian": granian.__version__,
        "gunicorn": gunicorn.__version__,
        "psycopg": psycopg.__version__,
        "postgresql": pg,
    }


PARTS = ("burst", "validation", "sustained")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench capture", description=__doc__)
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help="which measurements, comma-separated: burst (confirmations, server variants), "
        "validation (validation beside confirmation, bench/validation.py), sustained "
        "(payments stored per second under continuous load, bench/sustained.py)",
    )
    parser.add_argument("--requests", type=int, default=3000, help="measured requests per batch")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--duplicates", type=float, default=0.2, help="share of redeliveries")
    parser.add_argument(
        "--variants",
        default="default",
        help="burst: 'default' (the baseline and `make serve`), 'compare' (and the other "
        "servers measured for decision #12), 'all', or comma-separated names: "
        + ", ".join(v.name for v in [BASELINE, PRODUCTION, *VARIANTS]),
    )
    parser.add_argument(
        "--max-other",
        type=float,
        default=0.10,
        help="re-measure a variant when other processes used more than this share of the CPUs",
    )
    parser.add_argument("--attempts", type=int, default=2, help="runs per variant at most")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="burst: times the baseline and `make serve` are measured back to back (the "
        "verdict is their median)",
    )
    parser.add_argument(
        "--validation-rounds", type=int, default=3, help="validation: rounds (median verdict)"
    )
    parser.add_argument(
        "--seconds", type=float, default=60, help="sustained: seconds of load per run"
    )
    parser.add_argument(
        "--sustained-rounds", type=int, default=2, help="sustained: rounds (median verdict)"
    )
    parser.add_argument(
        "--app-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the app's processes (repeatable), e.g. C2B_CAPTURE_BUSY_PERCENT=100 "
        "to measure another pacing; shown in the output",
    )
    parser.add_argument(
        "--sustained-app-only",
        action="store_true",
        help="sustained: diagnostic, measure `make serve` alone (no baseline, no verdict)",
    )
    parser.add_argument("--keep-db", action="store_true", help="leave the databases behind")
    parser.add_argument(
        "--capture-paused",
        action="store_true",
        help="diagnostic: pause the capture workers (SIGSTOP) while the burst runs, to see what "
        "the web server does alone; they capture the backlog afterwards",
    )
    args = parser.parse_args(argv)
    APP_ENV.update(item.split("=", 1) for item in args.app_env)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}; choose from {', '.join(PARTS)}")

    info = machine()
    print(
        f"Capture benchmark, {info['date']}: {info['cpus']} CPUs ({info['model']}), "
        f"{info['mem_gib']} GiB; Python {info['python']}, Django {info['django']}, "
        f"granian {info['granian']}, gunicorn {info['gunicorn']}, psycopg {info['psycopg']}, "
        f"PostgreSQL {info['postgresql']}"
    )
    if APP_ENV:
        print("App settings: " + ", ".join(f"{k}={v}" for k, v in APP_ENV.items()))
    prepare_templates()
    status = 0
    try:
        if "burst" in parts:
            status |= burst(args, info)
        if "validation" in parts:
            from bench import validation

            status |= validation.run(args)
        if "sustained" in parts:
            from bench import sustained

            status |= sustained.run(args)
    finally:
        if not args.keep_db:
            drop_all()
    return status


def burst(args: argparse.Namespace, info: dict) -> int:
    known = {v.name: v for v in [BASELINE, PRODUCTION, *VARIANTS]}
    if args.variants == "default":
        chosen = [BASELINE, PRODUCTION]
    elif args.variants == "compare":
        chosen = [BASELINE, PRODUCTION, *(known[n] for n in ALTERNATIVES)]
    elif args.variants == "all":
        chosen = [BASELINE, PRODUCTION, *VARIANTS]
    else:
        chosen = [known[n.strip()] for n in args.variants.split(",")]
    missing = [v.name for v in chosen if not v.available]
    if missing:
        print(f"Not installed, skipped: {', '.join(missing)} (pip install -e '.[bench]')")
    chosen = [v for v in chosen if v.available]
    print(
        f"\n== Burst: {CONNECTIONS} connections, closed loop, {args.requests} measured "
        f"confirmations per variant after {args.warmup} warm-up, {args.duplicates:.0%} exact "
        "redeliveries ==",
        flush=True,
    )
    outcomes: list[Outcome] = []
    pairs: list[tuple[Outcome, Outcome]] = []  # (baseline, production), one per round
    _header()
    paired = BASELINE in chosen and PRODUCTION in chosen
    for round_ in range(args.rounds if paired else 0):
        # Alternate the order: whichever runs first meets a fresher machine.
        order = [BASELINE, PRODUCTION] if round_ % 2 == 0 else [PRODUCTION, BASELINE]
        got = {}
        for variant in order:
            got[variant.name] = outcome = _measure_quietly(variant, args)
            outcomes.append(outcome)
            _print_row(outcome)
        pairs.append((got[BASELINE.name], got[PRODUCTION.name]))
    for variant in chosen:
        if paired and variant in (BASELINE, PRODUCTION):
            continue
        outcome = _measure_quietly(variant, args)
        outcomes.append(outcome)
        _print_row(outcome)

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "capture.json").write_text(
        json.dumps({"machine": info, "rows": [o.row() for o in outcomes]}, indent=2)
    )
    return _verdict(outcomes, pairs)


def _verdict(outcomes: list[Outcome], pairs: list[tuple[Outcome, Outcome]]) -> int:
    """Print PASS/MISS per target. Exit status 1 only for wrong answers or lost/double payments:
    a missed performance target is a measurement, not a failure of the run.

    The targets are judged on the rounds that measured the baseline and `make serve` back to
    back: the median p99, and the median of each round's throughput ratio. The machine's speed
    drifts by a quarter within minutes, so only measurements of the same round compare."""
    print()
    if not pairs:
        print("The baseline and the production configuration were not both measured: no verdict.")
    else:
        label = " ".join(PRODUCTION.label.split())
        ratios, p99s = [], []
        for number, (base, prod) in enumerate(pairs, 1):
            ratios.append(prod.result.rps / base.result.rps)
            p99s.append(prod.result.percentile(0.99) * 1000)
            print(
                f"round {number}: baseline {base.result.rps:.0f} req/s, {label} "
                f"{prod.result.rps:.0f} req/s ({ratios[-1]:.2f}x), p99 {p99s[-1]:.1f} ms"
            )
        p99, ratio = statistics.median(p99s), statistics.median(ratios)
        print(
            f"{'PASS' if p99 < TARGET_P99_MS else 'MISS'}  p99 {p99:.1f} ms < "
            f"{TARGET_P99_MS:.0f} ms at {CONNECTIONS} connections ({label}; median of "
            f"{len(pairs)} rounds)"
        )
        print(
            f"{'PASS' if ratio >= 1 else 'MISS'}  throughput {ratio:.2f}x the baseline's "
            f"(one INSERT, {' '.join(BASELINE.label.split()[1:])}; median of the rounds' ratios)"
        )
    correct = all(o.clean for o in outcomes)
    print(
        f"{'PASS' if correct else 'FAIL'}  every variant: all answers 200 Accepted, "
        "stored == unique sent, one 'duplicate' receipt per redelivery"
    )
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main())

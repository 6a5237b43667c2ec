"""Sustained capture benchmark: payments *stored* per second under continuous load.

A burst says how fast M-Pesa is answered; this says whether the payments keep up. For each
round, the one-INSERT baseline and the app as ``make serve`` runs it (web server and capture
workers) each get a fresh database and ``--seconds`` of confirmations from 8 connections in a
closed loop, every one a new TransID. While the load runs (and afterwards, until the last
payment is stored) a sampler reads, twice a second, how many were answered, how many payments
are stored, how many confirmations wait for capture and how old the oldest is.

Reported per run: answered/s; stored/s, from the first request to the last payment stored,
drain included (the baseline stores as it answers); the oldest waiting confirmation's age over
time and at worst; answer p50/p99. The verdict takes the rounds' medians: stored/s at least the
baseline's, answer p99 within 2x the baseline's, and the oldest never over 10 s in any round.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg

from bench import capture, loadgen

CONNECTIONS = 8
SAMPLE_EVERY_S = 0.5
TARGET_OLDEST_S = 10.0
TARGET_P99_RATIO = 2.0


@dataclass
class Sample:
    t: float  # seconds since the measured load began
    answered: int
    stored: int
    waiting: int
    oldest_s: float


@dataclass
class SustainedOutcome:
    variant: capture.Variant
    result: loadgen.Result
    drain_s: float
    payments: int
    receipts: dict[str, int]
    samples: list[Sample] = field(default_factory=list)
    server_cpu_s: float = 0.0
    postgres_cpu_s: float = 0.0
    busy_cpu_s: float = 0.0
    load_other_cpu_s: float = 0.0

    @property
    def answered(self) -> int:
        return self.result.count

    @property
    def stored_per_s(self) -> float:
        total = self.result.wall_s + self.drain_s
        return self.payments / total if total else 0.0

    @property
    def oldest_max_s(self) -> float:
        return max((s.oldest_s for s in self.samples), default=0.0)

    @property
    def other_share(self) -> float:
        wall = self.result.wall_s * (os.cpu_count() or 1)
        return max(0.0, self.load_other_cpu_s) / wall if wall else 0.0

    @property
    def consistent(self) -> bool:
        if self.variant.project == "baseline":
            return self.payments == self.answered
        return (
            self.payments == self.answered
            and self.receipts.get("processed", 0) == self.answered
            and sum(self.receipts.values()) == self.answered
        )

    @property
    def clean(self) -> bool:
        return not self.result.errors and self.result.bad_bodies == 0 and self.consistent

    def row(self) -> dict:
        r, n = self.result, self.result.count or 1
        return {
            "variant": self.variant.name,
            "label": self.variant.label,
            "seconds": round(r.wall_s, 1),
            "answered": r.count,
            "answered_per_s": round(r.rps, 1),
            "stored": self.payments,
            "stored_per_s": round(self.stored_per_s, 1),
            "drain_s": round(self.drain_s, 2),
            "oldest_max_s": round(self.oldest_max_s, 2),
            **r.latency_ms(),
            "errors": r.failures,
            "receipts": self.receipts,
            "consistent": self.consistent,
            "cpu_ms_per_payment": {
                "server": round(self.server_cpu_s * 1000 / n, 3),
                "postgres": round(self.postgres_cpu_s * 1000 / n, 3),
                "loadgen": round(r.client_cpu_s * 1000 / n, 3),
            },
            "other_cpu_share": round(self.other_share, 3),
            "samples": [vars(s) for s in self.samples],
        }


class Sampler(threading.Thread):
    """Reads the run's progress from its database every ``SAMPLE_EVERY_S`` seconds.

    It also follows the CPU of the database's backends: the servers reconnect during a long run
    (``CONN_MAX_AGE``), and a backend that came and went between two readings of the whole
    run would count as another process's CPU."""

    def __init__(self, variant: capture.Variant, result: loadgen.Result, stored0: int) -> None:
        super().__init__(daemon=True)
        self.variant, self.result, self.stored0 = variant, result, stored0
        self.samples: list[Sample] = []
        self.started = time.perf_counter()
        self.halt = threading.Event()
        self.lock = threading.Lock()
        self.backends: dict[int, list[float]] = {}  # pid: [CPU s when first seen, last seen]
        self._follow_backends(first=True)

    def _follow_backends(self, first: bool = False) -> None:
        with psycopg.connect(capture.PG_ADMIN, autocommit=True) as conn:
            pids = [
                r[0]
                for r in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s",
                    [capture._db(self.variant)],
                ).fetchall()
            ]
        with self.lock:
            for pid in pids:
                cpu = capture._proc_cpu_s(pid)
                # A backend born during the run used all of its CPU for it.
                seen = self.backends.setdefault(pid, [cpu if first else 0.0, cpu])
                seen[1] = max(seen[1], cpu)

    def postgres_cpu_s(self) -> float:
        """CPU seconds the database's backends used since the sampler started."""
        self._follow_backends()
        with self.lock:
            return sum(last - first for first, last in self.backends.values())

    def run(self) -> None:
        with psycopg.connect(capture._url(capture._db(self.variant)), autocommit=True) as conn:
            while not self.halt.wait(SAMPLE_EVERY_S):
                self._follow_backends()
                stored, waiting, oldest = _progress(conn, self.variant)
                self.samples.append(
                    Sample(
                        t=round(time.perf_counter() - self.started, 2),
                        answered=self.result.count,
                        stored=stored - self.stored0,
                        waiting=waiting,
                        oldest_s=round(oldest, 2),
                    )
                )

    def stop(self) -> list[Sample]:
        self.halt.set()
        self.join()
        return self.samples


def _progress(conn: psycopg.Connection, variant: capture.Variant) -> tuple[int, int, float]:
    """(highest payment id, confirmations waiting, age of the oldest in seconds)."""
    if variant.project == "baseline":
        top = conn.execute("SELECT COALESCE(max(id), 0) FROM baseline_confirmation").fetchone()
        return top[0], 0, 0.0
    top = conn.execute("SELECT COALESCE(max(id), 0) FROM c2b_payment").fetchone()[0]
    waiting, oldest = conn.execute(
        "SELECT count(*), COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(received_at)), 0) "
        "FROM c2b_callbackreceipt WHERE kind = 'confirmation' AND status = 'received'"
    ).fetchone()
    return top, waiting, float(oldest)


def _requests(port: int, prefix: str, seconds: float) -> Iterator[bytes]:
    """New confirmations (new TransID, amount and account each) until ``seconds`` have passed."""
    template = json.loads(capture.PAYLOAD.read_text())
    path = f"/api/v1/c2b/{capture.TOKEN}/confirmation"
    rng = random.Random(3)
    deadline = time.perf_counter() + seconds
    number = 0
    while time.perf_counter() < deadline:
        data = dict(template)
        data["TransID"] = f"{prefix}{number:07d}"
        data["TransAmount"] = f"{rng.randrange(50, 150_000)}.00"
        data["BillRefNumber"] = f"NS {rng.randrange(1, capture.MEMBERS * 11 // 10):05d}"
        number += 1
        yield loadgen.request_bytes("127.0.0.1", port, path, json.dumps(data).encode())


def measure(variant: capture.Variant, *, seconds: float, warmup: int) -> SustainedOutcome:
    project_template = (
        capture.APP_TEMPLATE if variant.project == "app" else capture.BASELINE_TEMPLATE
    )
    capture._clone(project_template, capture._db(variant))
    prefix = "S" + secrets.token_hex(1).upper()
    db = capture._db(variant)
    capture.RESULTS.mkdir(exist_ok=True)
    with capture.serve(variant, capture.RESULTS / f"sustained-{variant.name}.log") as (port, procs):
        path = f"/api/v1/c2b/{capture.TOKEN}/confirmation"
        warm = capture.bodies(prefix + "W", warmup, 0.0, seed=1)[0]
        loadgen.run(
            host="127.0.0.1",
            port=port,
            requests=[loadgen.request_bytes("127.0.0.1", port, path, b) for b in warm],
            connections=CONNECTIONS,
            expect=b"",
        )
        capture._wait_captured(variant, prefix + "W")
        with psycopg.connect(capture._url(db), autocommit=True) as conn:
            stored0 = _progress(conn, variant)[0]
        server0 = sum(capture._tree_cpu_s(p.pid) for p in procs)
        busy0 = capture._busy_cpu_s()
        result = loadgen.Result()
        sampler = Sampler(variant, result, stored0)
        sampler.start()
        loadgen.run(
            host="127.0.0.1",
            port=port,
            requests=_requests(port, prefix + "M", seconds),
            connections=CONNECTIONS,
            expect=capture.ACCEPTED,
            result=result,
        )
        load_other = (
            capture._busy_cpu_s()
            - busy0
            - (sum(capture._tree_cpu_s(p.pid) for p in procs) - server0)
            - sampler.postgres_cpu_s()
            - result.client_cpu_s
        )
        drain = capture._wait_captured(variant, prefix + "M", timeout=1800)
        samples = sampler.stop()
        server_cpu = sum(capture._tree_cpu_s(p.pid) for p in procs) - server0
        pg_cpu = sampler.postgres_cpu_s()
        busy_cpu = capture._busy_cpu_s() - busy0
    payments, receipts = capture._counts(variant, prefix + "M")
    return SustainedOutcome(
        variant,
        result,
        drain,
        payments,
        receipts,
        samples,
        server_cpu,
        pg_cpu,
        busy_cpu,
        load_other,
    )


def _print(outcome: SustainedOutcome) -> None:
    row = outcome.row()
    print(
        f"{outcome.variant.label:40} {row['seconds']:6.1f} {row['answered']:>7} "
        f"{row['answered_per_s']:8.1f} {row['stored_per_s']:8.1f} {row['drain_s']:7.1f} "
        f"{row['oldest_max_s']:7.1f} {row['p50_ms']:7.2f} {row['p99_ms']:7.2f} "
        f"{'yes' if outcome.clean else 'NO':>4} {row['other_cpu_share']:6.0%}",
        flush=True,
    )
    if outcome.variant.project == "app":
        # The backlog over time: every 10 s of the run, and the drain.
        marks, next_mark = [], 10.0
        for sample in outcome.samples:
            if sample.t >= next_mark or sample is outcome.samples[-1]:
                marks.append(sample)
                next_mark = (sample.t // 10 + 1) * 10
        print(
            "    "
            + ";  ".join(
                f"{s.t:.0f}s: {s.answered} answered, {s.stored} stored, {s.waiting} waiting, "
                f"oldest {s.oldest_s:.1f}s"
                for s in marks
            ),
            flush=True,
        )


def _header() -> None:
    print(
        f"{'variant':40} {'secs':>6} {'answered':>7} {'ans/s':>8} {'stored/s':>8} "
        f"{'drain s':>7} {'oldest':>7} {'p50 ms':>7} {'p99 ms':>7} {'ok':>4} {'other':>6}",
        flush=True,
    )


def run(args: argparse.Namespace) -> int:
    """Alternating rounds of the baseline and ``make serve``; prints the verdict."""
    print(
        f"\n== Sustained: {CONNECTIONS} connections, closed loop, {args.seconds:g} s of new "
        f"confirmations per run, {args.sustained_rounds} rounds ==",
        flush=True,
    )
    _header()
    if args.sustained_app_only:
        # Diagnostic: `make serve` alone, for trying settings (no verdict without the baseline).
        outcomes = [
            measure(capture.PRODUCTION, seconds=args.seconds, warmup=args.warmup)
            for _ in range(args.sustained_rounds)
        ]
        for outcome in outcomes:
            _print(outcome)
        return 0 if all(o.clean for o in outcomes) else 1
    pairs: list[tuple[SustainedOutcome, SustainedOutcome]] = []
    for round_ in range(args.sustained_rounds):
        order = (
            [capture.BASELINE, capture.PRODUCTION]
            if round_ % 2 == 0
            else [capture.PRODUCTION, capture.BASELINE]
        )
        got = {}
        for variant in order:
            got[variant.name] = measure(variant, seconds=args.seconds, warmup=args.warmup)
            _print(got[variant.name])
        pairs.append((got[capture.BASELINE.name], got[capture.PRODUCTION.name]))
    capture.RESULTS.mkdir(exist_ok=True)
    (capture.RESULTS / "sustained.json").write_text(
        json.dumps([[b.row(), a.row()] for b, a in pairs], indent=2)
    )
    return verdict(pairs)


def verdict(pairs: list[tuple[SustainedOutcome, SustainedOutcome]]) -> int:
    print()
    stored, p99s, oldest = [], [], []
    for number, (base, app) in enumerate(pairs, 1):
        stored.append(app.stored_per_s / base.stored_per_s)
        p99s.append(app.result.percentile(0.99) / base.result.percentile(0.99))
        oldest.append(app.oldest_max_s)
        print(
            f"round {number}: baseline stored {base.stored_per_s:.0f}/s (p99 "
            f"{base.result.percentile(0.99) * 1000:.1f} ms); make serve answered "
            f"{app.result.rps:.0f}/s, stored {app.stored_per_s:.0f}/s ({stored[-1]:.2f}x), p99 "
            f"{app.result.percentile(0.99) * 1000:.1f} ms ({p99s[-1]:.2f}x), oldest waiting "
            f"{app.oldest_max_s:.1f} s"
        )
    ratio, p99_ratio = statistics.median(stored), statistics.median(p99s)
    print(
        f"{'PASS' if ratio >= 1 else 'MISS'}  stored/s {ratio:.2f}x the baseline's (median of "
        f"{len(pairs)} rounds, drain included)"
    )
    print(
        f"{'PASS' if max(oldest) <= TARGET_OLDEST_S else 'MISS'}  oldest confirmation waiting "
        f"for capture at most {max(oldest):.1f} s (target {TARGET_OLDEST_S:g} s, every round)"
    )
    print(
        f"{'PASS' if p99_ratio <= TARGET_P99_RATIO else 'MISS'}  answer p99 {p99_ratio:.2f}x the "
        f"baseline's (target {TARGET_P99_RATIO:g}x; median of the rounds)"
    )
    correct = all(o.clean for pair in pairs for o in pair)
    print(
        f"{'PASS' if correct else 'FAIL'}  every run: all answers 200 Accepted, payments == "
        "answered, every receipt processed"
    )
    return 0 if correct else 1

"""Staff web app at 1,000,000 payments: list, deep page, searches, totals and export memory.

Not a test. Seeds a dedicated PostgreSQL database (``neno_bench_staff`` by default) with a year
of realistic payments using one ``generate_series`` INSERT, then times the staff pages in
process (Django's test client: view + database, no HTTP server) and measures the CSV export's
peak memory in a child process.

    python -m bench.staff_scale [--payments 1000000] [--requests 60] [--reseed]

Environment: ``BENCH_STAFF_DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/neno_bench_staff).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlencode

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/neno_bench_staff"
DATABASE_URL = os.environ.get("BENCH_STAFF_DATABASE_URL", DEFAULT_URL)
SHORTCODES = [
    ("600984", "Main paybill", "paybill"),
    ("600985", "Loans paybill", "paybill"),
    ("5123456", "Shop till", "till"),
    ("600986", "Welfare", "paybill"),
]

FIRST = [
    "JOHN",
    "MARY",
    "PETER",
    "GRACE",
    "JAMES",
    "FAITH",
    "DAVID",
    "MERCY",
    "JOSEPH",
    "ESTHER",
    "SAMUEL",
    "ANN",
    "BRIAN",
    "WANJIKU",
    "OTIENO",
    "AKINYI",
    "KAMAU",
    "CHEBET",
    "KIPCHOGE",
    "NJERI",
    "MUTUA",
    "ACHIENG",
    "WAFULA",
    "NYAMBURA",
    "OMONDI",
    "ATIENO",
]
LAST = [
    "KAMAU",
    "OTIENO",
    "WANJIRU",
    "MWANGI",
    "ODHIAMBO",
    "KIPROP",
    "MUTISO",
    "NJOROGE",
    "OCHIENG",
    "CHERUIYOT",
    "WAMBUI",
    "KARANJA",
    "ONYANGO",
    "KIMANI",
    "MAINA",
    "KOECH",
]


def _setup() -> None:
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost")
    import django

    django.setup()


def _ensure_database() -> None:
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    admin_url = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _seed(payments: int, reseed: bool) -> None:
    from django.core.management import call_command
    from django.db import connection

    from c2b.models import Payment, Shortcode

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    existing = Payment.objects.count()
    if existing == payments and not reseed:
        print(f"Reusing {existing:,} seeded payments.", flush=True)
        return
    codes = {}
    for number, name, kind in SHORTCODES:
        codes[number], _ = Shortcode.objects.get_or_create(
            number=number, defaults={"name": name, "kind": kind, "environment": "production"}
        )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE c2b_payment CASCADE")
        cursor.execute("SELECT setseed(0.42)")
        ids = [codes[number].pk for number, *_ in SHORTCODES]
        cursor.execute(
            """
            INSERT INTO c2b_payment (
                trans_id, transaction_type, trans_time, amount, shortcode_id,
                business_short_code, bill_ref_number, invoice_number, org_account_balance,
                third_party_trans_id, msisdn, first_name, middle_name, last_name, extra,
                created_at, source, reconciled, amended)
            SELECT
                -- A bijection of i onto 36 bits: unique, but not in time order (like receipts).
                'S' || upper(lpad(to_hex((i::bigint * 2654435761) %% 68719476736), 9, '0')),
                CASE WHEN code = 3 THEN 'Buy Goods' ELSE 'Pay Bill' END,
                at,
                round((20 + power(random(), 3) * 60000)::numeric, 0),
                (%(ids)s::bigint[])[code],
                (%(numbers)s::text[])[code],
                CASE WHEN code = 3 THEN ''
                     WHEN i %% 17 = 0 THEN 'ns ' || lpad(member::text, 5, '0')
                     ELSE 'NS' || lpad(member::text, 5, '0') END,
                '', 1000000 + round((random() * 5000000)::numeric, 2), '',
                CASE WHEN i %% 3 = 0
                     THEN encode(sha256(('2547' || lpad(member::text, 8, '0'))::bytea), 'hex')
                     ELSE '2547 ***** ' || lpad((member %% 1000)::text, 3, '0') END,
                (%(first)s::text[])[1 + (member * 7) %% %(nfirst)s],
                CASE WHEN i %% 5 = 0 THEN (%(first)s::text[])[1 + member %% %(nfirst)s]
                     ELSE '' END,
                CASE WHEN i %% 4 = 0 THEN '' ELSE (%(last)s::text[])[1 + member %% %(nlast)s] END,
                '{}'::jsonb,
                at + interval '2 seconds',
                'callback', '', ''
            FROM (
                SELECT i,
                       1 + (CASE WHEN i %% 10 < 6 THEN 0 WHEN i %% 10 < 8 THEN 1
                                 WHEN i %% 10 < 9 THEN 2 ELSE 3 END) AS code,
                       (random() * 40000)::int AS member,
                       -- a year back, days uniform, times 06:00-22:00 EAT (03:00-19:00 UTC)
                       date_trunc('day', now() - random() * interval '365 days')
                         + interval '3 hours' + random() * interval '16 hours' AS at
                FROM generate_series(1, %(n)s) AS i
            ) AS seed
            """,
            {
                "ids": ids,
                "numbers": [number for number, *_ in SHORTCODES],
                "first": FIRST,
                "last": LAST,
                "nfirst": len(FIRST),
                "nlast": len(LAST),
                "n": payments,
            },
        )
    connection.close()
    import psycopg

    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE c2b_payment")
    print(f"Seeded {payments:,} payments in {time.perf_counter() - started:.0f} s.", flush=True)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def _time(client, urls: Callable[[int], str], requests: int, before=None) -> tuple[float, float]:
    samples = []
    for i in range(requests + 3):
        url = urls(i)
        if before:
            before()
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (url, response.status_code)
        if i >= 3:  # warm-up
            samples.append(elapsed)
    return _percentiles(samples)


def _measure(requests: int) -> dict[str, tuple[float, float]]:
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from c2b.models import Payment
    from staff.selectors import Cursor

    user, _ = get_user_model().objects.get_or_create(
        username="bench-staff", defaults={"is_staff": True}
    )
    client = Client()
    client.force_login(user)
    total = Payment.objects.count()
    deep = Payment.objects.order_by("-trans_time", "-trans_id").values_list(
        "trans_time", "trans_id"
    )[int(total * 0.6)]
    deep_page = Cursor(True, deep[0], deep[1]).encode()
    with connection.cursor() as cursor:
        cursor.execute("SELECT trans_id FROM c2b_payment TABLESAMPLE SYSTEM (1) LIMIT 500")
        receipts = [row[0] for row in cursor.fetchall()]
    rng = random.Random(7)
    results = {}
    results["List, first page (totals cached)"] = _time(
        client, lambda i: "/transactions/", requests
    )
    results["List, first page (totals computed)"] = _time(
        client, lambda i: "/transactions/", max(10, requests // 3), before=cache.clear
    )
    results["List, deep page (60% down)"] = _time(
        client, lambda i: f"/transactions/?page={deep_page}", requests
    )
    results["List, one month + shortcode"] = _time(
        client,
        lambda i: (
            "/transactions/?"
            + urlencode(
                {
                    "since": f"2026-{1 + i % 10:02d}-01",
                    "until": f"2026-{1 + i % 10:02d}-28",
                    "shortcode": "600985",
                }
            )
        ),
        requests,
        before=cache.clear,
    )
    results["Search by receipt"] = _time(
        client, lambda i: f"/transactions/?q={receipts[i % len(receipts)]}", requests
    )
    results["Search by account"] = _time(
        client,
        lambda i: "/transactions/?q=" + f"NS{rng.randint(0, 40000):05d}",
        requests,
    )
    results["Search by payer name"] = _time(
        client,
        lambda i: "/transactions/?q=" + f"{FIRST[i % len(FIRST)]} {LAST[i % len(LAST)]}",
        max(10, requests // 3),
    )
    results["Dashboard"] = _time(client, lambda i: "/", max(10, requests // 3))
    return results


def _export_child(query: str) -> None:
    """In a fresh process: stream the CSV export, discard it, report rows and peak RSS."""
    _setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-staff"))
    started = time.perf_counter()
    response = client.get(f"/transactions/export.csv?{query}")
    lines = size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "rows": lines - 1,
                "bytes": size,
                "seconds": time.perf_counter() - started,
                "peak_rss_mib": peak_kib / 1024,
            }
        )
    )


def _export(query: str) -> dict:
    output = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.staff_scale", "--export-child", query],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--export-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child is not None:
        _export_child(args.export_child)
        return

    _ensure_database()
    _setup()
    _seed(args.payments, args.reseed)
    results = _measure(args.requests)
    small = _export("since=2026-11-01&until=2026-11-07")
    full = _export("")

    cores = os.cpu_count()
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(
        f"\nStaff web app at {args.payments:,} payments — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC,"
        f" {cores} cores, {memory_gib:.0f} GiB, Python {platform.python_version()}\n"
    )
    print("| Request | p50 (ms) | p95 (ms) |\n| --- | ---: | ---: |")
    for name, (p50, p95) in results.items():
        print(f"| {name} | {p50:.1f} | {p95:.1f} |")
    print(
        "\n| CSV export | rows | size (MiB) | time (s) | peak RSS (MiB) |"
        "\n| --- | ---: | ---: | ---: | ---: |"
    )
    for name, run in (("One week", small), ("Everything", full)):
        print(
            f"| {name} | {run['rows']:,} | {run['bytes'] / 2**20:.0f} | {run['seconds']:.1f} |"
            f" {run['peak_rss_mib']:.0f} |"
        )


if __name__ == "__main__":
    main()

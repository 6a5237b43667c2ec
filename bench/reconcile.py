"""Reconciliation at scale: import a 100,000-line statement and reconcile it against 100,000
payments on PostgreSQL, timing both and reading the process's peak memory.

Not a test. Seeds a dedicated database (``neno_bench_reconcile`` on the same server as the
other benchmarks) with payments in one ``generate_series`` INSERT, writes an Org-portal CSV
whose balances and totals add up (most lines match a payment, some are missing from the
ledger, some payments are absent from the statement, each payment has its charge line), then
runs the import and the reconciliation in a fresh child process, as ``import_statement`` and
``reconcile`` would, and reports seconds and peak resident memory (``VmHWM``).

    python -m bench.reconcile [--lines 100000] [--rounds 3]

Targets (the reconciliation issue): import + reconcile within 15 s, peak memory under 150 MB.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_STAFF_URL = os.environ.get(
    "BENCH_STAFF_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/neno_bench_staff"
)
DATABASE_URL = os.environ.get(
    "BENCH_RECONCILE_DATABASE_URL", _STAFF_URL.rsplit("/", 1)[0] + "/neno_bench_reconcile"
)
SHORTCODE = "600984"
TARGET_SECONDS = 15.0
TARGET_MB = 150.0
# Of the statement's payment lines, this share never reached the ledger (lost callbacks); of the
# ledger's payments, this share is absent from the statement (unconfirmed).
MISSING_SHARE = 0.01
UNCONFIRMED_SHARE = 0.01
START = datetime(2026, 10, 1)  # EAT; the statement covers the days the payments span


def _setup() -> None:
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")
    import django

    django.setup()


def _ensure_database() -> None:
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    admin_url = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _receipt(n: int) -> str:
    return f"TKB{n:07d}"


def seed(lines: int) -> tuple[Path, dict[str, int]]:
    """Payments in the ledger, and the statement file: returns its path and the expected
    outcome counts."""
    from django.core.management import call_command
    from django.db import connection

    from c2b.models import Shortcode

    call_command("migrate", verbosity=0)
    shortcode = Shortcode.objects.create(number=SHORTCODE, name="Bench paybill")
    missing = int(lines * MISSING_SHARE)
    unconfirmed = int(lines * UNCONFIRMED_SHARE)
    # Ledger: receipts 1 .. lines - missing + unconfirmed; the statement: 1 .. lines minus the
    # unconfirmed ones, plus ``missing`` receipts the ledger never got.
    in_ledger = lines - missing + unconfirmed
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO c2b_payment (trans_id, transaction_type, trans_time, amount,
                shortcode_id, business_short_code, bill_ref_number, invoice_number,
                third_party_trans_id, msisdn, first_name, middle_name, last_name, extra,
                source, reconciled, amended, created_at)
            SELECT 'TKB' || lpad(i::text, 7, '0'), 'Pay Bill',
                   %s::timestamptz + (i * interval '20 seconds'), 100 + (i %% 900),
                   %s, %s, 'NS' || lpad((i %% 5000)::text, 4, '0'), '', '',
                   '2547 ***** ' || lpad((i %% 1000)::text, 3, '0'), 'JOHN', '', 'DOE', '{}',
                   'callback', '', '', now()
            FROM generate_series(1, %s) AS i
            """,
            [_eat_iso(START), shortcode.pk, SHORTCODE, in_ledger],
        )
        cursor.execute("ANALYZE c2b_payment")  # as autovacuum would have, long before
    absent = set(range(lines - missing + 1, in_ledger + 1))  # the unconfirmed ones
    statement_receipts = [n for n in range(1, in_ledger + 1) if n not in absent]
    statement_receipts += range(in_ledger + 1, in_ledger + 1 + len(absent) + missing)
    statement_receipts = statement_receipts[:lines]
    path = Path(tempfile.mkdtemp(prefix="neno-bench-")) / "statement.csv"
    _write_statement(path, statement_receipts)
    expected = {
        "matched": sum(1 for n in statement_receipts if n <= in_ledger),
        "missing": sum(1 for n in statement_receipts if n > in_ledger),
        "unconfirmed": len(absent),
    }
    return path, expected


def _eat_iso(moment: datetime) -> str:
    return moment.isoformat() + "+03:00"


def _when(n: int) -> datetime:
    return START + timedelta(seconds=20 * n)


def _write_statement(path: Path, receipts: list[int], *, charges: bool = False) -> None:
    """The classic CSV with the fuller preamble; newest first, a running balance that follows
    from the opening one; with ``charges``, a Pay Bill Charge line after each payment (sharing
    its receipt), as some exports have."""
    opening = balance = Decimal("1000000.00")
    paid_in = withdrawn = Decimal("0")
    rows = []
    for n in sorted(receipts):
        amount, charge = Decimal(100 + (n % 900)), Decimal("0.50")
        at = _when(n).strftime("%d-%m-%Y %H:%M:%S")
        payer = f"2547******{n % 1000:03d} - JOHN DOE"
        account = f"NS{n % 5000:04d}"
        balance += amount
        paid_in += amount
        rows.append(
            [_receipt(n), at, at, f"Pay Bill from {payer} Acc. {account}", "Completed",
             f"{amount:,.2f}", "", f"{balance:,.2f}", "true", "Pay Utility", payer, "", account]
        )  # fmt: skip
        if not charges:
            continue
        balance -= charge
        withdrawn += charge
        rows.append(
            [_receipt(n), at, at, "Pay Bill Charge", "Completed", "", f"{charge:,.2f}",
             f"{balance:,.2f}", "true", "Pay Bill Charge", payer, "", ""]
        )  # fmt: skip
    first, last = _when(min(receipts)), _when(max(receipts))
    with path.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["Short Code:", SHORTCODE])
        writer.writerow(
            ["Time Period:", "From", first.strftime("%d-%m-%Y 00:00:00"), "To",
             last.strftime("%d-%m-%Y 23:59:59")]
        )  # fmt: skip
        writer.writerow(
            ["Opening Balance:", f"{opening:,.2f}", "Closing Balance:", f"{balance:,.2f}",
             "Total Paid In:", f"{paid_in:,.2f}", "Total Withdrawn:", f"{withdrawn:,.2f}"]
        )  # fmt: skip
        writer.writerow([])
        writer.writerow(
            ["Receipt No.", "Completion Time", "Initiation Time", "Details", "Transaction Status",
             "Paid In", "Withdrawn", "Balance", "Balance Confirmed", "Reason Type",
             "Other Party Info", "Linked Transaction ID", "A/C No."]
        )  # fmt: skip
        writer.writerows(reversed(rows))


def child(path: Path) -> None:
    """In a fresh process: import, then reconcile; print timings and peak memory as JSON."""
    import time

    _setup()
    from reconciliation.importing import statement_import
    from reconciliation.matching import reconciliation_run

    started = time.perf_counter()
    report = statement_import(data=path.read_bytes(), filename=path.name, user="bench")
    imported = time.perf_counter()
    run = reconciliation_run(user="bench")
    finished = time.perf_counter()
    print(
        json.dumps(
            {
                "import_s": round(imported - started, 2),
                "reconcile_s": round(finished - imported, 2),
                "lines": report.lines,
                "proven": report.statement.proven,
                "counts": run.counts,
                "peak_mb": _peak_mb(),
            }
        )
    )


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE reconciliation_reconciliationitem, reconciliation_reconciliationrun, "
            "reconciliation_statemententry, reconciliation_statementimport CASCADE"
        )
        cursor.execute("UPDATE c2b_payment SET reconciled = ''")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reconcile", description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return 0

    _ensure_database()
    _setup()
    print(f"Seeding {args.lines:,} payments and a {args.lines:,}-payment statement...", flush=True)
    path, expected = seed(args.lines)
    print(f"Statement: {path} ({path.stat().st_size / 1e6:.1f} MB)", flush=True)
    results = []
    for round_ in range(1, args.rounds + 1):
        _reset()
        command = [sys.executable, "-m", "bench.reconcile", "--child", str(path)]
        output = subprocess.run(  # noqa: S603 - our own module
            command, cwd=ROOT, env={**os.environ, "DATABASE_URL": DATABASE_URL},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        result = json.loads(output.stdout.strip().splitlines()[-1])
        results.append(result)
        total = result["import_s"] + result["reconcile_s"]
        print(
            f"round {round_}: import {result['import_s']:.2f} s + reconcile "
            f"{result['reconcile_s']:.2f} s = {total:.2f} s; peak {result['peak_mb']} MB; "
            f"{result['counts']}",
            flush=True,
        )
        if {k: result["counts"].get(k, 0) for k in expected} != expected or not result["proven"]:
            print(f"WRONG: expected {expected}, proven statement", flush=True)
            return 1
    best = min(r["import_s"] + r["reconcile_s"] for r in results)
    peak = max(r["peak_mb"] for r in results)
    print(
        f"{'PASS' if best <= TARGET_SECONDS else 'MISS'} time: best {best:.2f} s "
        f"(target {TARGET_SECONDS:.0f} s)\n"
        f"{'PASS' if peak < TARGET_MB else 'MISS'} memory: peak {peak} MB "
        f"(target under {TARGET_MB:.0f} MB)",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make demo`: migrate SQLite, start the emulator, the web app and the SMS worker, register the
demo paybill's URLs with the emulator, then pay into it while you watch. When the payments are
done it reconciles with the emulator's M-Pesa statement, so the confirmations M-Pesa dropped are
found and stored, with their SMS receipts. Ctrl-C stops everything.

Environment knobs: DEMO_PORT (8000), DEMO_EMULATOR_PORT (8001), DEMO_PAYMENTS (40),
DEMO_PACE (payments per second, 1), DEMO_DATABASE_URL (sqlite:///db.sqlite3 in the repository).
"""

from __future__ import annotations

import csv
import os
import secrets
import signal
import sys
import time

import httpx

from config.serve import web_command
from demo.processes import ROOT, Process, manage, port_is_free, wait_for_http, wait_until

SHORTCODE = "600000"
MEMBERS_CSV = ROOT / "members" / "fixtures" / "demo_members.csv"
LOGS = ROOT / "var" / "demo"
CONSUMER_KEY = "demo-consumer-key"
CONSUMER_SECRET = "demo-consumer-secret"  # noqa: S105 - the emulator's published demo credentials


def say(message: str) -> None:
    print(f"demo: {message}", flush=True)


# The emulator's Transaction Status initiator, as the SACCO would have created one.
INITIATOR, INITIATOR_PASSWORD = "testapi", "Safaricom999!*!"


def demo_environment(port: int, emulator_port: int) -> dict[str, str]:
    # Always the embedded database, whatever DATABASE_URL the calling shell has.
    database = os.environ.get("DEMO_DATABASE_URL", f"sqlite:///{ROOT / 'db.sqlite3'}")
    return {
        "DATABASE_URL": database,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SECURE_COOKIES": "false",  # plain HTTP on localhost
        "C2B_CALLBACK_TOKEN": secrets.token_hex(16),
        "C2B_CALLBACK_BASE_URL": f"http://127.0.0.1:{port}",
        "C2B_ALLOWED_IPS": "127.0.0.1",
        "DARAJA_BASE_URL": f"http://127.0.0.1:{emulator_port}",
        "DARAJA_CONSUMER_KEY": CONSUMER_KEY,
        "DARAJA_CONSUMER_SECRET": CONSUMER_SECRET,
        "DARAJA_ALLOW_LOCAL_CALLBACKS": "true",
        "DARAJA_INITIATOR_NAME": INITIATOR,
        "DARAJA_INITIATOR_PASSWORD": INITIATOR_PASSWORD,
        # M-Pesa's public certificate, as downloaded from the Daraja portal: the emulator's.
        "DARAJA_SANDBOX_CERTIFICATE": str(LOGS / "mpesa-sandbox.pem"),
        "SMS_SACCO_NAME": "Neno SACCO",
        "PYTHONUNBUFFERED": "1",
    }


def prepare_database(env: dict[str, str]) -> str:
    say(f"migrating the database ({env['DATABASE_URL']})")
    manage("migrate", "--noinput", env=env)
    manage("collectstatic", "--noinput", "--verbosity", "0", env=env)
    password = secrets.token_urlsafe(9)
    user_env = {**env, "DJANGO_SUPERUSER_PASSWORD": password}
    created = manage(
        "createsuperuser",
        "--noinput",
        "--username",
        "demo",
        "--email",
        "demo@example.com",
        env=user_env,
        check=False,
    )
    if created.returncode != 0:  # exists from an earlier run: give it this run's password
        manage("shell", "-c", _RESET_DEMO_USER, env=user_env)
    manage(
        "shortcode",
        "add",
        SHORTCODE,
        "--name",
        "Demo paybill",
        "--kind",
        "paybill",
        "--environment",
        "sandbox",
        "--api-version",
        "v2",
        "--response-type",
        "Completed",
        "--min-amount",
        "10",
        "--max-amount",
        "150000",
        "--require-active-member",
        env=env,
    )
    result = manage("import_members", str(MEMBERS_CSV), env=env)
    say("members: " + (result.stdout.strip().splitlines() or ["imported"])[-1])
    return password


_RESET_DEMO_USER = (
    "import os; from django.contrib.auth import get_user_model; "
    "u = get_user_model().objects.get(username='demo'); "
    "u.set_password(os.environ['DJANGO_SUPERUSER_PASSWORD']); "
    "u.is_staff = u.is_superuser = u.is_active = True; u.save()"
)


def start_processes(env: dict[str, str], port: int, emulator_port: int) -> list[Process]:
    LOGS.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    processes: list[Process] = []
    emulator = Process(
        "emulator",
        [
            python,
            "-m",
            "daraja_emulator",
            "--port",
            str(emulator_port),
            "--config",
            str(ROOT / "demo" / "emulator.json"),
            "--consumer-key",
            CONSUMER_KEY,
            "--consumer-secret",
            CONSUMER_SECRET,
        ],
        log=LOGS / "emulator.log",
    )
    processes.append(emulator)
    wait_for_http(f"http://127.0.0.1:{emulator_port}/emulator/health", process=emulator)
    say(f"Daraja emulator up on http://127.0.0.1:{emulator_port} (log: var/demo/emulator.log)")
    certificate = httpx.get(
        f"http://127.0.0.1:{emulator_port}/emulator/certificate.pem", timeout=10
    )
    certificate.raise_for_status()
    (LOGS / "mpesa-sandbox.pem").write_bytes(certificate.content)

    web = Process(
        "web",
        web_command(port=port, host="127.0.0.1"),
        env=env,
        log=LOGS / "web.log",
    )
    processes.append(web)
    wait_for_http(f"http://127.0.0.1:{port}/healthz", process=web)
    say(f"web app up on http://127.0.0.1:{port} (log: var/demo/web.log)")

    processes.append(
        Process(
            "capture-worker",
            [python, "manage.py", "capture_worker"],
            env=env,
            log=LOGS / "capture.log",
        )
    )
    say("capture worker started: confirmations become payments (log: var/demo/capture.log)")

    # Inherits this terminal: the console SMS backend prints each receipt as it is "sent".
    processes.append(Process("sms-worker", [python, "manage.py", "sms_worker"], env=env))
    say("SMS worker started (console backend: receipts are printed here)")
    return processes


def run_scenario(emulator_port: int, payments: int, pace: float) -> str:
    """A few scripted payments that always show each fault, then a random stream."""
    members = _active_members()
    emulator = f"http://127.0.0.1:{emulator_port}/emulator"
    scripted = [
        ("an unknown account, rejected by validation", members[0], "X999999", {}),
        (
            "a confirmation delivered twice",
            members[1],
            members[1]["member_number"],
            {"duplicate": True},
        ),
        ("a dropped confirmation", members[2], members[2]["member_number"], {"drop": True}),
    ]
    for what, member, account, faults in scripted:
        reply = httpx.post(
            f"{emulator}/simulate",
            json={
                "ShortCode": SHORTCODE,
                "CommandID": "CustomerPayBillOnline",
                "Amount": 1000,
                "Msisdn": member["phone"],
                "BillRefNumber": account,
                "payer": _payer(member["name"]),
                "faults": faults,
            },
            timeout=10,
        )
        reply.raise_for_status()
        say(f"scripted payment {reply.json()['TransID']}: {what}")
    body: dict[str, object] = {
        "shortcode": SHORTCODE,
        "payments": payments,
        "members": members,
        "pace": pace,
        "seed": 2026,
        "duplicate_rate": 0.1,
        "drop_rate": 0.05,
        "delay_rate": 0.05,
        "delay_seconds": 2,
        "extra_key_rate": 0.05,
        "invalid_account_rate": 0.1,
        "messy_account_rate": 0.1,
        "amount_min": 50,
        "amount_max": 20000,
    }
    reply = httpx.post(f"{emulator}/scenario", json=body, timeout=10)
    reply.raise_for_status()
    return reply.json()["id"]


def _payer(name: str) -> dict[str, str]:
    first, *rest = name.upper().split()
    return {"first_name": first, "last_name": rest[-1] if rest else ""}


def _active_members() -> list[dict[str, str]]:
    """The payers: the same people the member registry was seeded with."""
    with MEMBERS_CSV.open(newline="") as f:
        return [
            {"member_number": row["member_number"], "phone": row["phone"], "name": row["name"]}
            for row in csv.DictReader(f)
            if row.get("status", "active") == "active"
        ]


def main() -> int:
    port = int(os.environ.get("DEMO_PORT", "8000"))
    emulator_port = int(os.environ.get("DEMO_EMULATOR_PORT", "8001"))
    payments = int(os.environ.get("DEMO_PAYMENTS", "40"))
    pace = float(os.environ.get("DEMO_PACE", "1"))
    for name, value in (("DEMO_PORT", port), ("DEMO_EMULATOR_PORT", emulator_port)):
        if not port_is_free(value):
            say(f"port {value} is in use; stop what uses it or set {name}=another port")
            return 1

    # Ctrl-C and SIGTERM both end in the same clean-up. SIGINT is set explicitly because a
    # shell that started us in the background leaves it ignored, and Python then keeps it so.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    env = demo_environment(port, emulator_port)
    os.environ.update(env)
    processes: list[Process] = []
    try:
        password = prepare_database(env)
        processes = start_processes(env, port, emulator_port)
        registered = manage("register_urls", "--shortcode", SHORTCODE, env=env)
        say(registered.stdout.strip())
        scenario = run_scenario(emulator_port, payments, pace)
        banner(port, emulator_port, password, payments)
        watch(processes, env, port, emulator_port, scenario)
    except KeyboardInterrupt:
        say("stopping")
    except Exception as exc:  # say what failed, then clean up
        say(f"failed: {exc}")
        return 1
    finally:
        for process in reversed(processes):
            process.stop()
        say("all demo processes stopped")
    return 0


def banner(port: int, emulator_port: int, password: str, payments: int) -> None:
    base = f"http://127.0.0.1:{port}"
    print(
        f"""
==========================================================================
 Neno SACCO C2B capture demo is running
   Staff web app : {base}/            user: demo   password: {password}
   Transactions  : {base}/transactions/
   Needs attention: {base}/attention/
   Admin         : {base}/admin/
   Health        : {base}/healthz
   Emulator      : http://127.0.0.1:{emulator_port}/emulator/ledger  (statement:
                   http://127.0.0.1:{emulator_port}/emulator/statement.csv?shortcode={SHORTCODE})
 {payments} payments are being made into paybill {SHORTCODE}: some rejected by validation,
 some delivered twice, one or two confirmations dropped. When they are done, the demo
 reconciles with M-Pesa's statement and stores the dropped ones: {base}/reconciliation/
 Press Ctrl-C to stop everything.
==========================================================================
""",
        flush=True,
    )


def watch(
    processes: list[Process], env: dict[str, str], port: int, emulator_port: int, scenario: str
) -> None:
    finished = False
    while True:
        for process in processes:
            if not process.alive():
                raise RuntimeError(f"{process.name} stopped unexpectedly:\n{process.tail()}")
        if not finished:
            progress = httpx.get(
                f"http://127.0.0.1:{emulator_port}/emulator/scenario/{scenario}", timeout=5
            ).json()
            finished = progress.get("status") != "running"
            counts = ", ".join(f"{n} {s}" for s, n in sorted(progress.get("by_status", {}).items()))
            say(f"payments {progress.get('processed', 0)}/{progress.get('payments')}: {counts}")
            if finished:
                say("scenario finished")
                reconcile(env, port, emulator_port)
                say("the app keeps running until Ctrl-C")
        time.sleep(5)


def reconcile(env: dict[str, str], port: int, emulator_port: int) -> None:
    """What the finance office does each morning: download the M-Pesa statement, import it,
    reconcile, store what M-Pesa's callbacks never brought."""
    emulator = f"http://127.0.0.1:{emulator_port}/emulator"
    wait_until(
        lambda: httpx.get(f"{emulator}/health", timeout=5).json()["background_threads"] == 0,
        timeout=60,
        what="the emulator's last callbacks",
    )
    wait_until(lambda: _capture_waiting(port) == 0, timeout=60, what="capture to catch up")
    statement = LOGS / "statement.csv"
    reply = httpx.get(f"{emulator}/statement.csv", params={"shortcode": SHORTCODE}, timeout=30)
    reply.raise_for_status()
    statement.write_bytes(reply.content)
    imported = manage("import_statement", str(statement), "--no-progress", env=env)
    say("statement: " + imported.stdout.strip())
    report = LOGS / "reconciliation.csv"
    ran = manage(
        "reconcile", "--shortcode", SHORTCODE, "--backfill", "--report", str(report), env=env
    )
    for line in ran.stdout.strip().splitlines():
        say(f"reconciliation: {line}")
    with report.open(newline="") as f:
        found = [row["TransID"] for row in csv.DictReader(f) if row["Outcome"] == "backfilled"]
    if found:
        say(
            f"found in M-Pesa's statement, never called back, now stored with their SMS receipts: "
            f"{', '.join(found)}"
        )
    say(f"see http://127.0.0.1:{port}/reconciliation/ (report: var/demo/reconciliation.csv)")


def _capture_waiting(port: int) -> int:
    return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["capture"]["waiting"]


if __name__ == "__main__":
    sys.exit(main())

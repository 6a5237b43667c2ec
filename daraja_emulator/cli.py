"""Command line: ``python -m daraja_emulator [serve] ...`` and ``... scenario ...``."""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

import httpx

from daraja_emulator.security import CredentialKeyUnavailable, encrypt
from daraja_emulator.server import Emulator
from daraja_emulator.settings import DEFAULT_INITIATOR_PASSWORD, ConfigError, Settings


def _serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m daraja_emulator",
        description="Run the Daraja (M-Pesa API) emulator. "
        "Subcommand: 'scenario' drives a running emulator (see 'scenario --help').",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001, help="0 picks a free port")
    parser.add_argument("--config", help="JSON file: settings and shortcodes")
    parser.add_argument("--consumer-key", help="default: $EMULATOR_CONSUMER_KEY or a demo key")
    parser.add_argument(
        "--consumer-secret", help="default: $EMULATOR_CONSUMER_SECRET or a demo secret"
    )
    parser.add_argument("--token-lifetime", type=int, help="seconds (default 3600)")
    parser.add_argument(
        "--allow-concurrent-tokens",
        action="store_true",
        default=None,
        help="keep earlier tokens valid when a new one is issued",
    )
    parser.add_argument(
        "--allow-localhost",
        action="store_true",
        default=None,
        help="accept loopback, private and bare-name hosts in callback URLs",
    )
    parser.add_argument("--validation-timeout", type=float, help="seconds (default 8)")
    parser.add_argument("--confirmation-timeout", type=float, help="seconds (default 5)")
    parser.add_argument("--result-delay", type=float, help="seconds before status results (0.5)")
    parser.add_argument("--pull-page-size", type=int, help="records per Pull page (default 100)")
    parser.add_argument(
        "--no-auto-create",
        action="store_true",
        default=None,
        help="unknown shortcodes are errors instead of new sandbox shortcodes",
    )
    parser.add_argument("--default-api-version", choices=("v1", "v2"), help="for new shortcodes")
    parser.add_argument("--seed", type=int, help="seed for payer-name randomness")
    parser.add_argument(
        "--key-dir",
        help="directory holding the SecurityCredential key pair (created if missing); "
        "default: a new pair per process",
    )
    parser.add_argument("--quiet", action="store_true", help="no request log on stderr")
    return parser


def build_settings(args: argparse.Namespace, environ: dict[str, str]) -> Settings:
    """Defaults < --config file < environment < command-line flags."""
    settings = Settings.from_file(args.config) if args.config else Settings()
    settings.consumer_key = (
        args.consumer_key or environ.get("EMULATOR_CONSUMER_KEY") or settings.consumer_key
    )
    settings.consumer_secret = (
        args.consumer_secret or environ.get("EMULATOR_CONSUMER_SECRET") or settings.consumer_secret
    )
    flags = {
        "token_lifetime": args.token_lifetime,
        "allow_localhost": args.allow_localhost,
        "validation_timeout": args.validation_timeout,
        "confirmation_timeout": args.confirmation_timeout,
        "result_delay": args.result_delay,
        "pull_page_size": args.pull_page_size,
        "seed": args.seed,
        "key_dir": args.key_dir,
    }
    for name, value in flags.items():
        if value is not None:
            setattr(settings, name, value)
    if args.allow_concurrent_tokens:
        settings.single_active_token = False
    if args.no_auto_create:
        settings.auto_create_shortcodes = False
    if args.default_api_version:
        settings.shortcode_defaults = settings.shortcode_defaults | {
            "api_version": args.default_api_version
        }
    settings.validate()
    return settings


def serve(argv: Sequence[str]) -> int:
    args = _serve_parser().parse_args(argv)
    try:
        settings = build_settings(args, dict(os.environ))
    except ConfigError as exc:
        print(f"daraja-emulator: {exc}", file=sys.stderr)
        return 2
    log = None if args.quiet else sys.stderr
    emulator = Emulator(settings, host=args.host, port=args.port, log=log)
    try:
        emulator.start()
    except OSError as exc:
        print(f"daraja-emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    # First stdout line, flushed: a parent process started us with --port 0 and reads it.
    print(f"daraja-emulator listening on {emulator.url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


def _scenario_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m daraja_emulator scenario",
        description="Start a scripted payment stream on a running emulator.",
    )
    parser.add_argument("--url", default="http://127.0.0.1:8001", help="emulator base URL")
    parser.add_argument("--shortcode", required=True)
    parser.add_argument("--payments", type=int, default=10)
    parser.add_argument("--members", type=int, default=5, help="members to invent")
    parser.add_argument(
        "--members-csv", help="CSV of members (account/member_number, phone, names)"
    )
    parser.add_argument("--seed", type=int)
    parser.add_argument("--pace", type=float, default=5.0, help="payments per second")
    for rate in ("duplicate", "drop", "delay", "extra-key", "invalid-account", "messy-account"):
        parser.add_argument(f"--{rate}-rate", type=float, default=0.0)
    parser.add_argument("--delay-seconds", type=float, default=2.0)
    parser.add_argument("--amount-min", type=int, default=50)
    parser.add_argument("--amount-max", type=int, default=5000)
    parser.add_argument("--buy-goods", action="store_true", help="CustomerBuyGoodsOnline")
    parser.add_argument("--api-version", choices=("v1", "v2"))
    parser.add_argument("--wait", action="store_true", help="poll until finished, then summarise")
    parser.add_argument("--timeout", type=float, default=600.0, help="for --wait, seconds")
    return parser


def read_members_csv(path: str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return [dict(row) for row in csv.DictReader(handle)]


def scenario_body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {
        "shortcode": args.shortcode,
        "payments": args.payments,
        "members": read_members_csv(args.members_csv) if args.members_csv else args.members,
        "pace": args.pace,
        "delay_seconds": args.delay_seconds,
        "amount_min": args.amount_min,
        "amount_max": args.amount_max,
        "command_id": "CustomerBuyGoodsOnline" if args.buy_goods else "CustomerPayBillOnline",
    }
    for rate in ("duplicate", "drop", "delay", "extra_key", "invalid_account", "messy_account"):
        body[f"{rate}_rate"] = getattr(args, f"{rate}_rate")
    if args.seed is not None:
        body["seed"] = args.seed
    if args.api_version:
        body["api_version"] = args.api_version
    return body


def scenario(argv: Sequence[str]) -> int:
    args = _scenario_parser().parse_args(argv)
    base = args.url.rstrip("/")
    try:
        body = scenario_body(args)
        with httpx.Client(trust_env=False, timeout=30) as client:
            reply = client.post(f"{base}/emulator/scenario", json=body)
            if reply.status_code != 200:
                print(f"daraja-emulator: {reply.status_code} {reply.text}", file=sys.stderr)
                return 1
            progress = reply.json()
            print(f"scenario {progress['id']} started: {progress['payments']} payments", flush=True)
            deadline = time.monotonic() + args.timeout
            while args.wait and progress["status"] in ("pending", "running"):
                if time.monotonic() > deadline:
                    print("daraja-emulator: timed out waiting for the scenario", file=sys.stderr)
                    return 1
                time.sleep(0.5)
                progress = client.get(f"{base}/emulator/scenario/{progress['id']}").json()
                print(
                    f"  {progress['status']}: {progress['submitted']} submitted, "
                    f"{progress['processed']} processed",
                    flush=True,
                )
    except (OSError, httpx.HTTPError, ValueError) as exc:
        print(f"daraja-emulator: {exc}", file=sys.stderr)
        return 1
    summary = {k: v for k, v in progress.items() if k not in ("trans_ids", "members")}
    print(json.dumps(summary, indent=2))
    return 0 if progress["status"] != "failed" else 1


def credential(argv: Sequence[str]) -> int:
    """Print the SecurityCredential for a password, made with a running emulator's certificate
    (what an app does with Safaricom's): for curl and demos."""
    parser = argparse.ArgumentParser(
        prog="python -m daraja_emulator credential",
        description="Encrypt an initiator password with the emulator's certificate.",
    )
    parser.add_argument("--url", default="http://127.0.0.1:8001", help="emulator base URL")
    parser.add_argument("--password", default=DEFAULT_INITIATOR_PASSWORD)
    args = parser.parse_args(argv)
    try:
        with httpx.Client(trust_env=False, timeout=30) as client:
            reply = client.get(f"{args.url.rstrip('/')}/emulator/certificate.pem")
        reply.raise_for_status()
        print(encrypt(reply.content, args.password))
    except (httpx.HTTPError, CredentialKeyUnavailable, ValueError) as exc:
        print(f"daraja-emulator: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "scenario":
        return scenario(args[1:])
    if args and args[0] == "credential":
        return credential(args[1:])
    if args and args[0] == "serve":
        args = args[1:]
    return serve(args)

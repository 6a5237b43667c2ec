"""The command line: a real subprocess for port discovery, plus settings and scenario CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from daraja_emulator.cli import _serve_parser, build_settings, main
from daraja_emulator.tests.conftest import SHORTCODE, Daraja, Receiver

REPO = Path(__file__).resolve().parents[2]


def test_port_zero_prints_the_url_first_and_logs_without_secrets(tmp_path: Path) -> None:
    env = os.environ | {
        "EMULATOR_CONSUMER_KEY": "env-key",
        "EMULATOR_CONSUMER_SECRET": "env-secret",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "daraja_emulator", "--port", "0"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("daraja-emulator listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        with httpx.Client(base_url=url, trust_env=False, timeout=5) as client:
            assert client.get("/emulator/health").json()["status"] == "ok"
            token = client.get(
                "/oauth/v1/generate?grant_type=client_credentials", auth=("env-key", "env-secret")
            ).json()["access_token"]
            client.post(
                "/pulltransactions/v1/query", json={}, headers={"Authorization": f"Bearer {token}"}
            )
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "GET /oauth/v1/generate 200" in stderr
    assert "POST /pulltransactions/v1/query 400 400.002.02" in stderr
    for secret in ("env-secret", token, "grant_type"):
        assert secret not in stderr


def test_flags_beat_environment_which_beats_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "emulator.json"
    config.write_text(
        json.dumps(
            {
                "consumer_key": "file-key",
                "consumer_secret": "file-secret",
                "validation_timeout": 3,
                "shortcodes": [
                    {"shortcode": "600000", "mode": "production", "api_version": "v1"},
                    {"shortcode": "174379", "external_validation": True},
                ],
            }
        )
    )
    args = _serve_parser().parse_args(
        ["--config", str(config), "--consumer-key", "flag-key", "--validation-timeout", "0.5"]
    )
    settings = build_settings(
        args, {"EMULATOR_CONSUMER_KEY": "env-key", "EMULATOR_CONSUMER_SECRET": "env-secret"}
    )
    assert (settings.consumer_key, settings.consumer_secret) == ("flag-key", "env-secret")
    assert settings.validation_timeout == 0.5
    assert [(s.shortcode, s.mode, s.api_version) for s in settings.shortcodes] == [
        ("600000", "production", "v1"),
        ("174379", "sandbox", "v2"),
    ]
    assert settings.single_active_token and not settings.allow_localhost


def test_config_file_with_a_typo_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "emulator.json"
    config.write_text(json.dumps({"shortcodes": [{"shortcode": "600000", "mdoe": "production"}]}))
    assert main(["--config", str(config), "--port", "0"]) == 2
    assert "mdoe" in capsys.readouterr().err


def test_scenario_cli_drives_a_running_emulator_with_a_members_csv(
    daraja: Daraja, receiver: Receiver, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    daraja.register(receiver)
    members = tmp_path / "members.csv"
    members.write_text(
        "member_number,phone,first_name,last_name\nNS001,0712000001,Achieng,Otieno\n"
        "NS002,0712000002,Peter,Kamau\n"
    )
    code = main(
        [
            "scenario", "--url", daraja.emulator.url, "--shortcode", SHORTCODE,
            "--payments", "4", "--members-csv", str(members), "--duplicate-rate", "1",
            "--pace", "100", "--seed", "3", "--wait",
        ]
    )  # fmt: skip
    assert code == 0
    output = capsys.readouterr().out
    summary: dict[str, Any] = json.loads(output[output.index("{") :])
    assert summary["status"] == "finished"
    assert summary["by_status"] == {"completed": 4}
    assert len(receiver.wait_for("/c2b/confirmation", 8)) == 8
    accounts = {r.json["BillRefNumber"] for r in receiver.at("/c2b/confirmation")}
    assert accounts <= {"NS001", "NS002"}


def test_scenario_cli_reports_an_unreachable_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "--url", "http://127.0.0.1:9", "--shortcode", SHORTCODE]) == 1
    assert "daraja-emulator:" in capsys.readouterr().err


def test_the_documented_example_config_loads() -> None:
    from daraja_emulator.settings import Settings

    settings = Settings.from_file(REPO / "daraja_emulator" / "example-config.json")
    assert [s.shortcode for s in settings.shortcodes] == ["600000", "4123456"]


def test_key_dir_flag_sets_where_the_key_pair_lives(tmp_path: Path) -> None:
    args = _serve_parser().parse_args(["--key-dir", str(tmp_path)])
    assert build_settings(args, {}).key_dir == str(tmp_path)


def test_credential_cli_prints_a_credential_the_emulator_accepts(
    daraja: Daraja, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    tx = daraja.pay()
    assert main(["credential", "--url", daraja.emulator.url]) == 0
    credential = capsys.readouterr().out.strip()
    daraja.post(
        "/mpesa/transactionstatus/v1/query",
        {
            "Initiator": "testapi",
            "SecurityCredential": credential,
            "CommandID": "TransactionStatusQuery",
            "TransactionID": tx["trans_id"],
            "PartyA": SHORTCODE,
            "IdentifierType": "4",
            "ResultURL": receiver.url("/result"),
            "QueueTimeOutURL": receiver.url("/timeout"),
            "Remarks": "cli",
        },
    )
    assert str(receiver.wait_for("/result")[0].json["Result"]["ResultCode"]) == "0"

"""Configuration comes from the environment and fails with a message naming what to set."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from config.env import env_bool, env_choice, env_decimal, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parents[2]


def start_django(**env):
    """Import the real settings in a fresh interpreter with exactly ``env``."""
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "C2B_", "DARAJA_"))
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_app_refuses_to_start_without_a_callback_token_unless_debug():
    result = start_django(DJANGO_SECRET_KEY="x")
    assert result.returncode != 0
    assert "C2B_CALLBACK_TOKEN" in result.stderr
    assert start_django(DJANGO_DEBUG="true").returncode == 0


LONG_TOKEN = "a-callback-token-of-at-least-32-characters"


def test_app_refuses_to_start_without_a_secret_key_unless_debug():
    result = start_django(C2B_CALLBACK_TOKEN=LONG_TOKEN)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_secret_can_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    result = start_django(DJANGO_SECRET_KEY_FILE=str(secret), C2B_CALLBACK_TOKEN=LONG_TOKEN)
    assert result.returncode == 0, result.stderr


def test_capture_busy_share_outside_1_to_100_percent_stops_the_app_naming_the_variable():
    result = start_django(DJANGO_DEBUG="true", C2B_CAPTURE_BUSY_PERCENT="0")
    assert result.returncode != 0
    assert "C2B_CAPTURE_BUSY_PERCENT must be between 1 and 100 (got 0)" in result.stderr


def test_capture_batch_over_its_maximum_stops_the_app_naming_both_variables():
    result = start_django(
        DJANGO_DEBUG="true", C2B_CAPTURE_BATCH_SIZE="600", C2B_CAPTURE_MAX_BATCH_SIZE="500"
    )
    assert result.returncode != 0
    assert "C2B_CAPTURE_BATCH_SIZE must be at least 1 and at most C2B_CAPTURE_MAX_BATCH_SIZE" in (
        result.stderr
    )


def test_capture_relaxed_beyond_catch_up_stops_the_app_naming_both_variables():
    result = start_django(
        DJANGO_DEBUG="true", C2B_CAPTURE_RELAXED_SECONDS="9", C2B_CAPTURE_CATCH_UP_SECONDS="5"
    )
    assert result.returncode != 0
    assert "C2B_CAPTURE_RELAXED_SECONDS must be at least 0 and at most" in result.stderr
    assert "C2B_CAPTURE_CATCH_UP_SECONDS (got 9 and 5)" in result.stderr


def test_malformed_boolean_names_the_variable(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG must be true or false"):
        env_bool("SOME_FLAG")


def test_typed_helpers_read_and_default(monkeypatch):
    monkeypatch.setenv("N", "5")
    monkeypatch.setenv("L", " a, b ,,c ")
    monkeypatch.setenv("D", "10.50")
    monkeypatch.setenv("B", "yes")
    assert env_int("N", 1) == 5
    assert env_int("MISSING", 7) == 7
    assert env_list("L") == ["a", "b", "c"]
    assert env_list("MISSING", ["*"]) == ["*"]
    assert env_decimal("D") == Decimal("10.50")
    assert env_bool("B") is True
    assert env_str("MISSING", "default") == "default"


@pytest.mark.parametrize(
    ("name", "value", "call", "message"),
    [
        ("N", "five", lambda: env_int("N", 1), "N must be a whole number"),
        ("D", "ten", lambda: env_decimal("D"), "D must be a number"),
        ("C", "v3", lambda: env_choice("C", {"v1", "v2"}, "v1"), "C must be one of v1, v2"),
        ("R", "", lambda: env_str("R", required=True), "Set the environment variable R"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, name, value, call, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=message):
        call()


def test_unreadable_secret_file_names_the_variable(monkeypatch):
    monkeypatch.setenv("TOKEN_FILE", "/nonexistent/secret")
    with pytest.raises(ImproperlyConfigured, match="TOKEN_FILE"):
        env_str("TOKEN")


def _check_ids(**settings):
    with override_settings(**settings):
        return {m.id for m in run_checks(include_deployment_checks=True)}


def test_deploy_checks_warn_about_an_emulator_host_and_open_allowlist():
    ids = _check_ids(DARAJA_BASE_URL="http://127.0.0.1:8001", C2B_ALLOWED_IPS=["*"])
    assert {"c2b.W001", "c2b.W003"} <= ids


def test_deploy_checks_warn_when_safaricom_would_refuse_the_callback_urls():
    assert "c2b.W002" in _check_ids(C2B_CALLBACK_BASE_URL="http://localhost:8000")
    assert "c2b.W002" not in _check_ids(C2B_CALLBACK_BASE_URL="https://pay.nenosacco.co.ke")


def test_the_deploy_warning_about_callback_urls_never_shows_the_token():
    with override_settings(C2B_CALLBACK_BASE_URL="http://localhost:8000"):
        [warning] = [m for m in run_checks(include_deployment_checks=True) if m.id == "c2b.W002"]
    assert "/api/v1/c2b/<token>/confirmation" in warning.msg
    assert "0123456789abcdef" not in warning.msg


@pytest.mark.parametrize("variable", ["C2B_CALLBACK_TOKEN", "SMS_DELIVERY_REPORT_TOKEN"])
def test_a_short_secret_path_token_stops_the_app_outside_debug(variable):
    env = {"DJANGO_SECRET_KEY": "x", "C2B_CALLBACK_TOKEN": LONG_TOKEN}
    result = start_django(**env | {variable: f"{LONG_TOKEN},a"})
    assert result.returncode != 0
    assert f"{variable}: token 2 is 1 characters long; use at least 32" in result.stderr
    assert start_django(DJANGO_DEBUG="true", **{variable: "a"}).returncode == 0


@pytest.mark.parametrize(
    ("variable", "entry"),
    [("C2B_ALLOWED_IPS", "10.0.0.0/33"), ("C2B_TRUSTED_PROXIES", "196.201.214.300")],
)
def test_a_bad_address_list_entry_stops_the_app_naming_the_variable_and_the_entry(variable, entry):
    result = start_django(DJANGO_DEBUG="true", **{variable: f"127.0.0.1,{entry}"})
    assert result.returncode != 0
    assert f"{variable}: '{entry}' is not an IP address or network." in result.stderr

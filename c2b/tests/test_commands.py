"""Management commands the SACCO's IT person scripts against."""

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from c2b.models import CallbackReceipt, Payment, Shortcode
from c2b.services.callbacks import callback_receipt_store
from factories import daraja_error, load_payload

pytestmark = pytest.mark.django_db

CONFIRMATION_URL = (
    "https://capture.example.co.ke/api/v1/c2b/test-callback-token-0123456789abcdef/confirmation"
)
VALIDATION_URL = (
    "https://capture.example.co.ke/api/v1/c2b/test-callback-token-0123456789abcdef/validation"
)


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- shortcode --------------------------------------------------------------------------------


def test_shortcode_add_creates_then_updates_only_given_fields():
    run(
        "shortcode",
        "add",
        "600984",
        "--kind",
        "paybill",
        "--min-amount",
        "10",
        "--account-pattern",
        r"NS\d{4}",
    )
    run(
        "shortcode",
        "add",
        "600984",
        "--max-amount",
        "70000",
        "--api-version",
        "v1",
        "--require-active-member",
    )
    shortcode = Shortcode.objects.get()
    assert shortcode.min_amount == Decimal("10")
    assert shortcode.max_amount == Decimal("70000")
    assert shortcode.api_version == "v1"
    assert shortcode.account_pattern == r"NS\d{4}"
    assert shortcode.require_active_member is True
    run("shortcode", "add", "600984", "--no-require-active-member")
    assert Shortcode.objects.get().require_active_member is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["12"], "5 to 7 digits"),
        (["600984", "--account-pattern", "(unclosed"], "regular expression"),
        (["600984", "--min-amount", "100", "--max-amount", "10"], "minimum is above"),
    ],
)
def test_shortcode_add_refuses_invalid_values_with_the_reason(args, message):
    with pytest.raises(CommandError, match=message):
        run("shortcode", "add", *args)
    assert not Shortcode.objects.exists()


def test_shortcode_list_and_disable_and_enable(make_shortcode):
    make_shortcode("600984")
    out, _ = run("shortcode", "list")
    assert "600984" in out and "yes" in out
    run("shortcode", "disable", "600984")
    assert Shortcode.objects.get().enabled is False
    run("shortcode", "enable", "600984")
    assert Shortcode.objects.get().enabled is True


def test_shortcode_disable_unknown_number_is_an_error():
    with pytest.raises(CommandError, match="Unknown shortcode"):
        run("shortcode", "disable", "999999")


@override_settings(C2B_DEFAULT_SHORTCODE="174379", C2B_DEFAULT_API_VERSION="v1")
def test_default_shortcode_from_environment_is_created_once():
    from c2b.services.shortcodes import shortcode_ensure_default

    shortcode_ensure_default()
    Shortcode.objects.filter(number="174379").update(name="Renamed by staff")
    shortcode_ensure_default()
    shortcode = Shortcode.objects.get()
    assert shortcode.api_version == "v1"
    assert shortcode.name == "Renamed by staff"


# --- register_urls / simulate_c2b -----------------------------------------------------------


def test_register_urls_registers_every_enabled_shortcode_with_its_settings(daraja, make_shortcode):
    make_shortcode("600984", api_version="v1", response_type="Cancelled")
    make_shortcode("600985", enabled=False)
    route = daraja.post("/mpesa/c2b/v1/registerurl").mock(
        return_value=httpx.Response(
            200, json={"ResponseCode": "0", "ResponseDescription": "Success"}
        )
    )
    out, _ = run("register_urls")
    assert json.loads(route.calls.last.request.content) == {
        "ShortCode": "600984",
        "ResponseType": "Cancelled",
        "ConfirmationURL": CONFIRMATION_URL,
        "ValidationURL": VALIDATION_URL,
    }
    assert route.call_count == 1
    assert "600984: registered" in out
    assert Shortcode.objects.get(number="600984").registered_at is not None


def test_register_urls_failure_is_reported_and_recorded(daraja, make_shortcode):
    make_shortcode("600984", environment="production")
    daraja.post("/mpesa/c2b/v2/registerurl").mock(
        return_value=daraja_error(500, "500.003.1001", "Urls are already registered.")
    )
    with pytest.raises(CommandError, match="1 of 1 registrations failed"):
        run("register_urls", "--shortcode", "600984")
    assert "Org portal" in Shortcode.objects.get().registration_result


@override_settings(C2B_CALLBACK_BASE_URL="http://capture.example.co.ke")
def test_register_urls_checks_url_rules_before_calling_daraja_and_never_shows_the_token(
    daraja, make_shortcode, capsys
):
    make_shortcode("600984", environment="production")
    route = daraja.post("/mpesa/c2b/v2/registerurl")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("register_urls", stdout=out, stderr=err)
    assert route.call_count == 0
    assert "/api/v1/c2b/<token>/confirmation" in err.getvalue()
    printed = out.getvalue() + err.getvalue() + "".join(capsys.readouterr())
    assert "0123456789abcdef" not in printed
    assert "0123456789abcdef" not in Shortcode.objects.get().registration_result


def test_a_daraja_error_echoing_the_url_is_shown_without_the_token(daraja, make_shortcode):
    make_shortcode("600984")
    daraja.post("/mpesa/c2b/v2/registerurl").mock(
        return_value=daraja_error(
            400, "400.003.02", f"Bad Request - Invalid ConfirmationURL: {CONFIRMATION_URL}"
        )
    )
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("register_urls", stdout=io.StringIO(), stderr=err)
    assert "/api/v1/c2b/<token>/confirmation" in err.getvalue()
    assert "0123456789abcdef" not in err.getvalue()
    assert "0123456789abcdef" not in Shortcode.objects.get().registration_result


@override_settings(C2B_CALLBACK_BASE_URL="http://capture.example.co.ke")
def test_the_admin_register_action_never_shows_the_token(admin_client, daraja, make_shortcode):
    shortcode = make_shortcode("600984", environment="production")
    response = admin_client.post(
        "/admin/c2b/shortcode/",
        {"action": "register_urls", "_selected_action": [shortcode.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "/api/v1/c2b/&lt;token&gt;/confirmation" in page
    assert "0123456789abcdef" not in page


def test_register_urls_unknown_shortcode_is_an_error(daraja):
    with pytest.raises(CommandError, match="Unknown shortcode"):
        run("register_urls", "--shortcode", "123456")


def test_register_urls_without_shortcodes_says_how_to_add_one(daraja):
    with pytest.raises(CommandError, match="shortcode add"):
        run("register_urls")


def test_simulate_c2b_asks_daraja_for_a_payment(daraja, make_shortcode):
    make_shortcode("600984")
    route = daraja.post("/mpesa/c2b/v2/simulate").mock(
        return_value=httpx.Response(
            200,
            json={
                "OriginatorCoversationID": "x1",
                "ResponseCode": "0",
                "ResponseDescription": "Accept the service request successfully.",
            },
        )
    )
    out, _ = run(
        "simulate_c2b",
        "--shortcode",
        "600984",
        "--amount",
        "150",
        "--msisdn",
        "254708374149",
        "--account",
        "NS0001",
    )
    assert json.loads(route.calls.last.request.content)["BillRefNumber"] == "NS0001"
    assert "Accept the service request" in out


def test_simulate_c2b_refuses_production_shortcodes(daraja, make_shortcode):
    make_shortcode("600984", environment="production")
    with pytest.raises(CommandError, match="sandbox only"):
        run("simulate_c2b", "--shortcode", "600984", "--amount", "1", "--msisdn", "2547")


@pytest.mark.parametrize("amount", ["-1", "0", "10.50", "ten"])
def test_simulate_c2b_refuses_anything_but_whole_shillings(make_shortcode, amount):
    make_shortcode("600984")
    with pytest.raises(CommandError, match="--amount"):
        run("simulate_c2b", "--shortcode", "600984", "--amount", amount, "--msisdn", "2547")


# --- reprocess_callbacks --------------------------------------------------------------------


def _receipt(body, kind="confirmation", age=timedelta(0)):
    receipt = callback_receipt_store(
        kind=kind, body=json.dumps(body).encode(), headers={}, source_ip="196.201.214.200"
    )
    CallbackReceipt.objects.filter(pk=receipt.pk).update(received_at=timezone.now() - age)
    return receipt


def test_failed_confirmation_is_recorded_after_the_shortcode_is_added(mpesa, make_shortcode):
    mpesa.confirm(load_payload("confirmation_v2_masked"))
    assert CallbackReceipt.objects.get().status == "failed"
    make_shortcode("600984")

    out, _ = run("reprocess_callbacks", "--failed")

    assert "1 processed" in out
    receipt = CallbackReceipt.objects.get()
    assert receipt.status == "processed"
    assert receipt.error == ""
    assert receipt.attempts == 2
    assert Payment.objects.get().trans_id == "TKR3XYZ9AB"


def test_interrupted_receipts_are_reprocessed_by_default(make_shortcode):
    make_shortcode("600984")
    _receipt(load_payload("confirmation_v2_masked"), age=timedelta(minutes=5))
    _receipt(load_payload("confirmation_v1_hashed"))  # just arrived: may be in flight
    out, _ = run("reprocess_callbacks")
    assert "Reprocessed 1" in out
    assert Payment.objects.count() == 1


def test_reprocess_never_touches_validation_receipts(make_shortcode):
    make_shortcode("600984")
    _receipt(load_payload("validation_v2"), kind="validation", age=timedelta(minutes=5))
    out, _ = run("reprocess_callbacks")
    assert "Nothing to reprocess" in out


def test_reprocessing_a_receipt_already_captured_leaves_it_as_it_is(mpesa, make_shortcode):
    make_shortcode("600984")
    mpesa.confirm(load_payload("confirmation_v2_masked"))
    mpesa.confirm(load_payload("confirmation_v2_masked"))
    ids = [str(pk) for pk in CallbackReceipt.objects.order_by("id").values_list("pk", flat=True)]

    out, _ = run("reprocess_callbacks", "--id", ids[0], "--id", ids[1])

    assert "Nothing to reprocess" in out
    statuses = list(CallbackReceipt.objects.order_by("id").values_list("status", "attempts"))
    assert statuses == [("processed", 1), ("duplicate", 1)]
    assert Payment.objects.count() == 1


# --- export_transactions --------------------------------------------------------------------


HEADER = (
    "TransID,TransactionType,TransTime,TransAmount,BusinessShortCode,BillRefNumber,"
    "InvoiceNumber,OrgAccountBalance,ThirdPartyTransID,MSISDN,FirstName,MiddleName,LastName,"
    "Source,Reconciliation"
)


def test_export_writes_the_documented_columns_in_order(mpesa, paybill):
    mpesa.confirm(load_payload("confirmation_v2_masked"))
    mpesa.confirm(load_payload("confirmation_buy_goods_full_msisdn"))
    out, _ = run("export_transactions")
    lines = out.splitlines()
    assert lines[0] == HEADER
    assert lines[1] == (
        "RKTQDM7W6S,Buy Goods,2019-11-22T06:38:45+03:00,10.00,600638,,,49197.00,,"
        "254708374149,John,,Doe,callback,"
    )
    assert lines[2] == (
        "TKR3XYZ9AB,Pay Bill,2026-11-27T14:30:15+03:00,1500.00,600984,NS 00123,,"
        "49197.00,,2547 ***** 126,JOHN,,,callback,"
    )


def test_export_filters_by_time_in_eat_and_shortcode(mpesa, paybill):
    mpesa.confirm(load_payload("confirmation_v2_masked"))  # 14:30:15 EAT on 27 Nov 2026
    mpesa.confirm(load_payload("confirmation_v1_hashed"))  # 09:05:01 EAT, shortcode 6009841
    mpesa.confirm(load_payload("confirmation_buy_goods_full_msisdn"))

    def ids(*args):
        rows = list(csv.reader(io.StringIO(run("export_transactions", *args)[0])))
        return [row[0] for row in rows[1:]]

    assert ids("--since", "2026-11-27") == ["TKS4ABC1DE", "TKR3XYZ9AB"]
    assert ids("--since", "2026-11-27T10:00:00") == ["TKR3XYZ9AB"]
    assert ids("--until", "2026-11-27T09:05:01+03:00") == ["RKTQDM7W6S"]
    assert ids("--shortcode", "6009841") == ["TKS4ABC1DE"]


def test_export_neutralises_cells_a_spreadsheet_would_run(mpesa, paybill):
    mpesa.confirm(
        load_payload(
            "confirmation_v2_masked",
            BillRefNumber='=HYPERLINK("x")',
            FirstName="+SUM(A1)",
            LastName="@cmd",
        )
    )
    row = list(csv.reader(io.StringIO(run("export_transactions")[0])))[1]
    assert row[5] == '\'=HYPERLINK("x")'
    assert row[10] == "'+SUM(A1)"
    assert row[12] == "'@cmd"


def test_export_to_a_file(mpesa, paybill, tmp_path):
    mpesa.confirm(load_payload("confirmation_v2_masked"))
    target = tmp_path / "out.csv"
    _, err = run("export_transactions", "--output", str(target))
    assert target.read_text().startswith("TransID,")
    assert "Wrote 1 payments" in err


def test_export_refuses_an_unreadable_date():
    with pytest.raises(CommandError, match="ISO 8601"):
        run("export_transactions", "--since", "yesterday")

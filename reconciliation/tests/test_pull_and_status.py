"""Pull Transactions sweeps and Transaction Status checks, Daraja mocked at its one door."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from django.core.management import CommandError, call_command

from c2b.models import Payment, Shortcode
from core.eat import EAT
from daraja.tests.payloads import load
from reconciliation.models import DarajaResult, PullSweep, StatusCheck
from reconciliation.pull import pull_transactions
from reconciliation.status import VerifyRefused, payment_verify

pytestmark = pytest.mark.django_db

RESULT_URL = "/api/v1/daraja/test-callback-token-0123456789abcdef/status-result"


# --- Pull -------------------------------------------------------------------------------------


def pull_pages(daraja, *pages):
    route = daraja.post("/pulltransactions/v1/query")
    route.side_effect = [httpx.Response(200, json=page) for page in pages]
    return route


def test_a_sweep_stores_what_no_callback_brought_and_records_what_it_found(
    daraja, paybill, make_payment
):
    make_payment(trans_id="TKR4B7XQ2M", amount="1020.00")
    pull_pages(daraja, load("pull_query_page"), load("pull_query_1001"))

    sweep = pull_transactions(shortcode=paybill, hours=24)

    assert (sweep.records, sweep.known, sweep.backfilled) == (2, 1, 1)
    stored = Payment.objects.get(trans_id="TKR4B7XQ3N")
    assert (stored.source, stored.amount, stored.bill_ref_number) == (
        "pull",
        Decimal("500.00"),
        "ns00456 dep",
    )
    assert sweep.finished_at is not None and sweep.warning == ""


def test_a_shortcode_pull_never_lists_while_callbacks_arrive_is_flagged(
    daraja, paybill, make_payment
):
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).astimezone(EAT)
    make_payment(trans_id="TKCALLBACK", at=an_hour_ago.strftime("%Y-%m-%d %H:%M:%S"))
    pull_pages(daraja, load("pull_query_1001"))

    sweep = pull_transactions(shortcode=paybill, hours=24)

    assert (sweep.records, sweep.response_code) == (0, "1001")
    assert "No records found or Organization Name not available" in sweep.message
    assert "probably not set up for Pull" in sweep.warning


def test_a_failed_sweep_is_recorded_with_the_error(daraja, paybill):
    daraja.post("/pulltransactions/v1/query").mock(
        return_value=httpx.Response(
            500, json={"requestId": "1", "errorCode": "500.003.02", "errorMessage": "Spike"}
        )
    )
    with pytest.raises(Exception, match="spike arrest"):
        pull_transactions(shortcode=paybill, hours=24)
    assert "spike arrest" in PullSweep.objects.get().error


def test_pull_transactions_refuses_more_than_48_hours(paybill):
    with pytest.raises(CommandError, match="between 1 and 48"):
        call_command("pull_transactions", "--hours", "72")


def test_pull_register_needs_a_nominated_number(paybill):
    with pytest.raises(CommandError, match="DARAJA_PULL_NOMINATED_NUMBER"):
        call_command("pull_register", "--shortcode", "600984")


# --- Transaction Status -----------------------------------------------------------------------


@pytest.fixture
def initiator(settings, tmp_path):
    """An initiator and a certificate (a key pair made here stands in for M-Pesa's)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2026, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2036, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "sandbox.cer"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    settings.DARAJA_INITIATOR_NAME = "testapi"
    settings.DARAJA_INITIATOR_PASSWORD = "Safaricom999!*!"
    settings.DARAJA_SANDBOX_CERTIFICATE = str(path)
    return key


def ask(daraja, trans_id="TKR4B7XQ2M"):
    route = daraja.post("/mpesa/transactionstatus/v1/query").mock(
        return_value=httpx.Response(200, json=load("status_ack"))
    )
    paybill = Shortcode.objects.get(number="600984")
    check = payment_verify(trans_id=trans_id, shortcode=paybill, user="wanjiku")
    return check, json.loads(route.calls.last.request.content)


def answer(client, body, kind="status-result"):
    return client.post(
        RESULT_URL.replace("status-result", kind), json.dumps(body), content_type="application/json"
    )


def result_for(check, **parameters):
    body = load("status_result_production")
    body["Result"]["ConversationID"] = check.conversation_id
    body["Result"]["OriginatorConversationID"] = check.originator_conversation_id
    for item in body["Result"]["ResultParameters"]["ResultParameter"]:
        if item["Key"] in parameters:
            item["Value"] = parameters[item["Key"]]
    return body


def test_a_query_is_sent_with_an_encrypted_credential_and_our_result_urls(
    daraja, paybill, make_payment, initiator
):
    from cryptography.hazmat.primitives.asymmetric import padding

    make_payment(trans_id="TKR4B7XQ2M", amount="1020.00")
    check, sent = ask(daraja)

    assert check.verdict == StatusCheck.Verdict.WAITING
    assert (sent["TransactionID"], sent["PartyA"], sent["Initiator"]) == (
        "TKR4B7XQ2M",
        "600984",
        "testapi",
    )
    assert sent["ResultURL"].endswith(RESULT_URL)
    assert sent["QueueTimeOutURL"].endswith("/status-timeout")
    import base64

    password = initiator.decrypt(base64.b64decode(sent["SecurityCredential"]), padding.PKCS1v15())
    assert password == b"Safaricom999!*!"


def test_m_pesa_confirming_amount_and_payer_is_shown_as_confirmed(
    daraja, client, paybill, make_payment, initiator
):
    make_payment(trans_id="TKR4B7XQ2M", amount="1020.00", msisdn="2547 ***** 126")
    check, _ = ask(daraja)

    assert answer(client, result_for(check)).status_code == 200

    check.refresh_from_db()
    assert check.verdict == StatusCheck.Verdict.CONFIRMED
    assert check.amount == Decimal("1020.00")
    result = DarajaResult.objects.get()
    assert (result.status, result.status_check) == (DarajaResult.Status.PROCESSED, check)


def test_m_pesa_reporting_another_amount_is_shown_as_differing(
    daraja, client, paybill, make_payment, initiator
):
    make_payment(trans_id="TKR4B7XQ2M", amount="1020.00")
    check, _ = ask(daraja)
    answer(client, result_for(check, Amount=10))
    check.refresh_from_db()
    assert check.verdict == StatusCheck.Verdict.DIFFERS
    assert "amount" in check.detail


def test_a_receipt_missing_from_the_ledger_that_m_pesa_confirms_is_backfilled(
    daraja, client, paybill, initiator
):
    check, _ = ask(daraja)
    answer(client, result_for(check))

    check.refresh_from_db()
    payment = Payment.objects.get()
    assert (check.verdict, check.backfilled, check.payment) == ("confirmed", True, payment)
    assert (payment.source, payment.amount, payment.bill_ref_number) == (
        "status",
        Decimal("1020.00"),
        "",
    )
    assert "no account number" in check.detail.lower() or "without an account" in check.detail


def test_an_unknown_receipt_is_not_found(daraja, client, paybill, initiator):
    check, _ = ask(daraja, "TKFORGED01")
    body = load("status_result_invalid_initiator")
    body["Result"].update(
        ResultCode="R000002",
        ResultDesc="The OriginalTransactionID is invalid.",
        ConversationID=check.conversation_id,
    )
    answer(client, body)
    check.refresh_from_db()
    assert check.verdict == StatusCheck.Verdict.NOT_FOUND
    assert not Payment.objects.exists()


def test_a_refused_initiator_is_an_error_saying_what_to_check(daraja, client, paybill, initiator):
    check, _ = ask(daraja)
    body = load("status_result_invalid_initiator")
    body["Result"]["ConversationID"] = check.conversation_id
    answer(client, body)
    check.refresh_from_db()
    assert check.verdict == StatusCheck.Verdict.ERROR
    assert "DARAJA_INITIATOR_PASSWORD" in check.detail


def test_an_unreadable_or_unknown_result_is_kept_raw_and_failed(client, paybill):
    assert answer(client, {"not": "a result"}).status_code == 200
    body = load("status_result_production")
    assert answer(client, body).status_code == 200
    failed = DarajaResult.objects.order_by("id")
    assert [r.status for r in failed] == ["failed", "failed"]
    assert "Unreadable" in failed[0].error
    assert "No query of ours" in failed[1].error
    assert b'"not"' in bytes(failed[0].body)


def test_results_need_the_token_and_a_safaricom_address(client, paybill, settings):
    wrong = client.post("/api/v1/daraja/wrong/status-result", "{}", content_type="application/json")
    assert wrong.status_code == 404
    settings.C2B_ALLOWED_IPS = ["196.201.214.200"]
    refused = answer(client, {"Result": {}})
    assert refused.status_code == 404
    assert not DarajaResult.objects.exists()


def test_verify_without_an_initiator_says_what_to_set(paybill, settings):
    settings.DARAJA_INITIATOR_NAME = ""
    with pytest.raises(VerifyRefused, match="DARAJA_INITIATOR_NAME"):
        payment_verify(trans_id="TKR4B7XQ2M", shortcode=paybill)
    with pytest.raises(CommandError, match="DARAJA_INITIATOR_NAME"):
        call_command("verify_payment", "TKR4B7XQ2M", "--shortcode", "600984")


def test_verify_without_the_certificate_says_which_to_download(paybill, settings):
    settings.DARAJA_INITIATOR_NAME, settings.DARAJA_INITIATOR_PASSWORD = "api", "pw"
    settings.DARAJA_SANDBOX_CERTIFICATE = ""
    with pytest.raises(VerifyRefused, match="DARAJA_SANDBOX_CERTIFICATE"):
        payment_verify(trans_id="TKR4B7XQ2M", shortcode=paybill)


def test_a_queue_timeout_is_an_error_asking_again(daraja, client, paybill, initiator):
    check, _ = ask(daraja)
    body = {
        "Result": {
            "ResultType": 1,
            "ResultCode": 1,
            "ResultDesc": "The request timed out",
            "ConversationID": check.conversation_id,
            "OriginatorConversationID": check.originator_conversation_id,
            "TransactionID": "",
        }
    }
    answer(client, body, kind="status-timeout")
    check.refresh_from_db()
    assert check.verdict == StatusCheck.Verdict.ERROR
    assert "ask again" in check.detail


@pytest.mark.parametrize(
    "command",
    [
        ["pull_transactions", "--shortcode", "999999"],
        ["pull_register", "--shortcode", "999999"],
        ["verify_payment", "UKU0000001", "--shortcode", "999999"],
        ["reconcile", "--shortcode", "999999"],
    ],
)
def test_reconciliation_commands_name_an_unknown_shortcode(command, paybill, daraja):
    with pytest.raises(CommandError, match="Unknown shortcode 999999: add it with"):
        call_command(*command)
    assert not daraja.calls


def test_scheduled_pull_with_no_enabled_shortcode_fails_loudly(paybill, daraja):
    Shortcode.objects.update(enabled=False)
    with pytest.raises(CommandError, match="No enabled shortcodes"):
        call_command("pull_transactions")
    assert not PullSweep.objects.exists()

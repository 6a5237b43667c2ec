"""The validation URL: the shortcode's rules, answered with Daraja's official codes."""

import json
from decimal import Decimal

import pytest

from c2b.models import CallbackReceipt, Payment, ValidationDecision

pytestmark = pytest.mark.django_db

ACCEPT = {"ResultCode": "0", "ResultDesc": "Accepted"}


def reject(code):
    return {"ResultCode": code, "ResultDesc": "Rejected"}


def test_payment_within_rules_is_accepted_and_recorded(mpesa, make_shortcode, payload):
    make_shortcode(
        "600984",
        min_amount=Decimal("10"),
        max_amount=Decimal("150000"),
        account_pattern=r"NS ?\d{5}",
    )
    response = mpesa.validate(payload("validation_v2"))

    assert response.status_code == 200
    assert response.json() == ACCEPT
    decision = ValidationDecision.objects.get()
    assert decision.accepted is True
    assert decision.result_code == "0"
    assert decision.trans_id == "TKR3XYZ9AB"
    assert decision.receipt.kind == "validation"


def test_unknown_shortcode_is_rejected_c2b00015(mpesa, db, payload):
    assert mpesa.validate(payload("validation_v2")).json() == reject("C2B00015")
    assert ValidationDecision.objects.get().reason == "Unknown shortcode 600984."


def test_disabled_shortcode_is_rejected_c2b00015(mpesa, make_shortcode, payload):
    make_shortcode("600984", enabled=False)
    assert mpesa.validate(payload("validation_v2")).json() == reject("C2B00015")


@pytest.mark.parametrize("amount", ["9.00", "150000.01"])
def test_amount_outside_limits_is_rejected_c2b00013(mpesa, make_shortcode, payload, amount):
    make_shortcode("600984", min_amount=Decimal("10"), max_amount=Decimal("150000"))
    response = mpesa.validate(payload("validation_v2", TransAmount=amount))
    assert response.json() == reject("C2B00013")


def test_account_not_matching_pattern_is_rejected_c2b00012(mpesa, make_shortcode, payload):
    make_shortcode("600984", account_pattern=r"NS\d{5}")
    response = mpesa.validate(payload("validation_v2", BillRefNumber="NS12"))
    assert response.json() == reject("C2B00012")
    assert "does not match" in ValidationDecision.objects.get().reason


def test_account_pattern_does_not_apply_to_tills(mpesa, make_shortcode, payload):
    make_shortcode("600984", kind="till", account_pattern=r"NS\d{5}")
    response = mpesa.validate(payload("validation_v2", BillRefNumber=""))
    assert response.json() == ACCEPT


@pytest.mark.parametrize("body", [b"garbage", b'{"TransID": "AB12CD34EF"}'])
def test_unreadable_validation_request_is_rejected_c2b00016(mpesa, paybill, body):
    response = mpesa.validate(body)
    assert response.status_code == 200
    assert response.json() == reject("C2B00016")
    receipt = CallbackReceipt.objects.get()
    assert receipt.status == CallbackReceipt.Status.FAILED
    assert receipt.validation_decision.result_code == "C2B00016"


def test_confirmation_is_linked_to_its_validation_decision(mpesa, paybill, payload):
    mpesa.validate(payload("validation_v2"))
    mpesa.confirm(payload("confirmation_v2_masked"))
    assert Payment.objects.get().validation == ValidationDecision.objects.get()


def test_confirmation_after_a_rejected_validation_is_still_recorded(mpesa, make_shortcode, payload):
    # ResponseType Completed + a late answer can complete a payment we rejected: money moved.
    make_shortcode("600984", max_amount=Decimal("100"))
    mpesa.validate(payload("validation_v2"))
    assert mpesa.confirm(payload("confirmation_v2_masked")).status_code == 200
    payment = Payment.objects.get()
    assert payment.validation.accepted is False


def test_decision_the_database_refuses_is_rejected_c2b00016_and_kept_with_its_traceback(
    mpesa, make_shortcode, payload
):
    from unittest import mock

    from django.db import IntegrityError

    make_shortcode("600984")
    # The receipt and its decision are written together; the database refuses that write.
    with mock.patch(
        "c2b.services.callbacks._validation_insert",
        side_effect=IntegrityError("duplicate key value"),
    ):
        response = mpesa.validate(payload("validation_v2"))

    # Validation answers HTTP 200 with a code, always: a 500 would let M-Pesa apply the default.
    assert (response.status_code, response.json()) == (200, reject("C2B00016"))
    receipt = CallbackReceipt.objects.get()
    assert receipt.status == CallbackReceipt.Status.FAILED
    assert receipt.error == "The database refused a value in this request (see traceback)."
    assert "IntegrityError: duplicate key value" in receipt.traceback
    assert bytes(receipt.body) == json.dumps(payload("validation_v2")).encode()
    assert receipt.attempts == 1
    assert ValidationDecision.objects.get().result_code == "C2B00016"


def test_a_bug_while_deciding_is_rejected_c2b00016_never_a_500(mpesa, make_shortcode, payload):
    from unittest import mock

    make_shortcode("600984")
    with mock.patch(
        "c2b.services.callbacks.validation_check", side_effect=ZeroDivisionError("bug")
    ):
        response = mpesa.validate(payload("validation_v2"))

    assert (response.status_code, response.json()) == (200, reject("C2B00016"))
    receipt = CallbackReceipt.objects.get()
    assert receipt.error == "Unexpected error while processing (see traceback)."
    assert "ZeroDivisionError: bug" in receipt.traceback


# --- one write, and what survives when it cannot be made -------------------------------------


def test_a_validation_is_kept_raw_with_its_decision_in_one_statement(
    mpesa, make_shortcode, payload
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_shortcode("600984", min_amount=Decimal("10"), max_amount=Decimal("150000"))
    mpesa.validate(payload("validation_v2", TransID="TKRWARM001"))  # reads the shortcodes
    body = payload("validation_v2")

    with CaptureQueriesContext(connection) as queries:
        assert mpesa.validate(body).json() == ACCEPT

    # One statement, one commit, as a confirmation (on SQLite: two, in one transaction).
    statements = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == (1 if connection.vendor == "postgresql" else 2)

    receipt = CallbackReceipt.objects.get(trans_id="TKR3XYZ9AB")
    assert bytes(receipt.body) == json.dumps(body).encode()
    assert (receipt.kind, receipt.status, receipt.attempts) == ("validation", "processed", 1)
    assert receipt.processed_at is not None and receipt.error == ""
    decision = receipt.validation_decision
    assert (decision.accepted, decision.amount, decision.bill_ref_number) == (
        True,
        Decimal("1500.00"),
        "NS 00123",
    )
    assert decision.shortcode.number == "600984"


def test_a_database_outage_while_writing_is_a_503_never_an_accept(mpesa, paybill, payload):
    from unittest import mock

    from django.db import OperationalError

    with mock.patch(
        "c2b.services.callbacks._validation_insert",
        side_effect=OperationalError("server closed the connection"),
    ):
        response = mpesa.validate(payload("validation_v2"))

    assert response.status_code == 503
    assert response.json()["ResultCode"] != "0"
    assert not ValidationDecision.objects.exists()


# --- shortcode rules changed elsewhere ---------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """The monotonic clock validation's copy of the shortcodes is aged by, moved by hand."""
    from c2b import selectors

    now = [1000.0]
    monkeypatch.setattr(selectors, "_clock", lambda: now[0])
    return now


def test_a_rule_changed_in_another_process_applies_within_a_second(
    mpesa, make_shortcode, payload, clock
):
    from c2b.models import Shortcode
    from c2b.selectors import SHORTCODE_RULES_SECONDS

    make_shortcode("600984", max_amount=Decimal("150000"))
    assert mpesa.validate(payload("validation_v2", TransID="TKR0000001")).json() == ACCEPT

    # The admin of another web process or `manage.py shortcode` lowers the limit: no signal
    # reaches this process (an UPDATE sends none), only the database knows.
    Shortcode.objects.filter(number="600984").update(max_amount=Decimal("1000"))
    clock[0] += SHORTCODE_RULES_SECONDS
    response = mpesa.validate(payload("validation_v2", TransID="TKR0000002"))

    assert SHORTCODE_RULES_SECONDS <= 1.0
    assert response.json() == reject("C2B00013")


def test_a_shortcode_disabled_elsewhere_is_refused_within_a_second(
    mpesa, make_shortcode, payload, clock
):
    from c2b.models import Shortcode
    from c2b.selectors import SHORTCODE_RULES_SECONDS

    make_shortcode("600984")
    assert mpesa.validate(payload("validation_v2", TransID="TKR0000001")).json() == ACCEPT

    Shortcode.objects.filter(number="600984").update(enabled=False)
    clock[0] += SHORTCODE_RULES_SECONDS / 2
    within = mpesa.validate(payload("validation_v2", TransID="TKR0000002")).json()
    clock[0] += SHORTCODE_RULES_SECONDS / 2
    after = mpesa.validate(payload("validation_v2", TransID="TKR0000003")).json()

    assert within == ACCEPT  # the copy this process read half a second ago: the window
    assert after == reject("C2B00015")


def test_a_change_saved_in_this_process_applies_at_once(mpesa, make_shortcode, payload, clock):
    shortcode = make_shortcode("600984")
    assert mpesa.validate(payload("validation_v2", TransID="TKR0000001")).json() == ACCEPT

    shortcode.max_amount = Decimal("100")
    shortcode.save()  # the admin's save, in this process: its signal forgets the copy

    response = mpesa.validate(payload("validation_v2", TransID="TKR0000002"))
    assert response.json() == reject("C2B00013")


def test_a_shortcode_added_a_moment_ago_is_known_at_once(mpesa, make_shortcode, payload, clock):
    from c2b.models import Shortcode

    make_shortcode("600638", kind="till")
    assert mpesa.validate(payload("validation_v2", TransID="TKR0000001")).json() == reject(
        "C2B00015"
    )

    Shortcode.objects.bulk_create([Shortcode(number="600984")])  # no signal: another process

    assert mpesa.validate(payload("validation_v2", TransID="TKR0000002")).json() == ACCEPT

"""Property-based: whatever body arrives, "Accepted" means exactly one payment of exactly the
amount sent, and anything else is a clear 4xx (or C2B00016) with no payment. Never a 5xx."""

import itertools
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c2b.models import CallbackReceipt, Payment
from capture.services import capture_pending

pytestmark = pytest.mark.django_db

_receipts = itertools.count(1)

# Values a hostile or broken sender might put anywhere.
TEXT = st.text(max_size=40) | st.sampled_from(["", " ", "\u0000", "\ud800", "NS 00123", "=1+1"])
NUMBERISH = st.from_regex(r"\A-?[0-9,._ ]{0,14}(E[+-]?[0-9]{1,9})?\Z") | st.sampled_from(
    ["10.00", "1,000", "1,0,0", "1_000", "NaN", "Infinity", "\u0661\u0660", "1E+100000000", "0"]
)
JSON_LEAF = st.none() | st.booleans() | st.integers() | TEXT | st.floats(allow_nan=False)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
FIELD_VALUES = {
    "TransactionType": TEXT,
    "TransTime": st.from_regex(r"\A[0-9]{14}\Z") | TEXT | st.integers(),
    "TransAmount": NUMBERISH | st.integers(min_value=-10, max_value=10**12),
    "BusinessShortCode": st.sampled_from(["600984", 600984, "60098", "6009841234", ""]),
    "BillRefNumber": TEXT,
    "OrgAccountBalance": NUMBERISH | st.just(""),
    "MSISDN": TEXT,
    "FirstName": TEXT,
}


@st.composite
def confirmations(draw) -> tuple[bytes, str]:
    """A real-shaped body with some fields replaced, keys dropped or added, and sometimes
    spliced raw (NaN, duplicate keys, deep nesting). Returns the body and its TransID."""
    trans_id = f"FZ{next(_receipts):08d}"
    body: dict[str, object] = {
        "TransactionType": "Pay Bill",
        "TransID": trans_id.lower() if draw(st.booleans()) else trans_id,
        "TransTime": "20261127143015",
        "TransAmount": "1500.00",
        "BusinessShortCode": "600984",
        "BillRefNumber": "NS 00123",
        "OrgAccountBalance": "49197.00",
        "MSISDN": "2547 ***** 126",
        "FirstName": "JOHN",
    }
    for key in draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), max_size=3, unique=True)):
        body[key] = draw(FIELD_VALUES[key])
    for key in draw(st.lists(st.sampled_from(sorted(body)), max_size=2, unique=True)):
        if key != "TransID":
            del body[key]
    body.update(draw(st.dictionaries(TEXT, JSON, max_size=2)))
    text = json.dumps(body, allow_nan=True)
    splice = draw(
        st.sampled_from(
            ["", ', "X": NaN', ', "TransAmount": "9.00"', ', "X": ' + "[" * 40 + "]" * 40]
        )
    )
    return (text[:-1] + splice + "}").encode(), trans_id


def sent_amount(body: bytes) -> Decimal:
    """The amount the body states: what an accepted confirmation must be stored with."""
    return Decimal(str(json.loads(body, parse_float=Decimal)["TransAmount"]).replace(",", ""))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=confirmations())
def test_every_confirmation_is_one_exact_payment_or_a_clear_refusal(mpesa, paybill, case):
    body, trans_id = case
    response = mpesa.post("confirmation", body)
    capture_pending(limit=10)

    assert response.status_code in (200, 400), response.content
    payments = Payment.objects.filter(trans_id=trans_id)
    receipt = CallbackReceipt.objects.filter(body=body).latest("id")
    if response.status_code == 200:
        assert response.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
        [payment] = payments
        assert payment.amount == sent_amount(body)
        assert receipt.status == CallbackReceipt.Status.PROCESSED
    else:
        assert not payments.exists()
        assert receipt.status == CallbackReceipt.Status.FAILED
        assert receipt.error


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=confirmations())
def test_every_validation_is_answered_http_200_with_a_result_code(mpesa, paybill, case):
    body, _ = case
    response = mpesa.post("validation", body)

    assert response.status_code == 200, response.content
    assert response.json()["ResultCode"] in {"0", "C2B00012", "C2B00013", "C2B00015", "C2B00016"}


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.binary(max_size=300))
def test_arbitrary_bytes_are_refused_never_a_server_error(mpesa, paybill, body):
    assert mpesa.post("confirmation", body).status_code == 400
    assert mpesa.post("validation", body).json()["ResultCode"] == "C2B00016"

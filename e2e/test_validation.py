"""External validation through the emulator: our rules reject, and M-Pesa's ResponseType decides
when our validation URL does not answer in time."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from decimal import Decimal

import pytest

from c2b.models import CallbackReceipt, Payment, Shortcode, ValidationDecision
from c2b.services.shortcodes import shortcode_save
from daraja.client import get_client
from e2e.conftest import (
    CONSUMER_KEY,
    CONSUMER_SECRET,
    SHORT_VALIDATION_TIMEOUT,
    EmulatorClient,
    start_emulator,
    stop,
)
from members.models import Member

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("number", "rule", "amount", "account", "code"),
    [
        ("600201", {"max_amount": Decimal("1000")}, 5000, "NS0201", "C2B00013"),
        ("600202", {"min_amount": Decimal("50")}, 10, "NS0201", "C2B00013"),
        ("600203", {"account_pattern": r"NS\d{4}"}, 100, "X123456", "C2B00012"),
        ("600204", {"require_active_member": True}, 100, "NS0299", "C2B00012"),
    ],
    ids=["above-max", "below-min", "account-pattern", "dormant-member"],
)
def test_rejected_by_our_rule_never_becomes_a_payment(stack, number, rule, amount, account, code):
    Member.objects.create(number="NS0201", name="Active Member")
    Member.objects.create(number="NS0299", name="Dormant Member", status=Member.Status.DORMANT)
    stack.emulator.shortcode(number, external_validation=True)
    shortcode_save(number=number, name="Validated paybill", **rule)
    stack.manage("register_urls", "--shortcode", number)

    tx = stack.pay(number, amount=amount, account=account)

    assert tx["status"] == "rejected", tx
    assert [d["kind"] for d in tx["deliveries"]] == ["validation"], tx
    assert code in tx["deliveries"][0]["response_body"], tx
    assert stack.emulator.ledger(tx["trans_id"])["status"] == "rejected"
    decision = ValidationDecision.objects.get(trans_id=tx["trans_id"])
    assert not decision.accepted
    assert decision.result_code == code
    assert decision.shortcode.number == number
    assert decision.amount == Decimal(amount)
    assert decision.bill_ref_number == account
    assert not Payment.objects.exists()
    assert not CallbackReceipt.objects.filter(kind="confirmation").exists()

    # The same shortcode still takes a payment that passes the rule.
    good = stack.pay(number, amount=100, account="NS0201")
    assert good["status"] == "completed", good
    assert Payment.objects.get().trans_id == good["trans_id"]
    assert ValidationDecision.objects.get(trans_id=good["trans_id"]).accepted


@pytest.fixture(scope="module")
def impatient_emulator_process(e2e_logs) -> Iterator[EmulatorClient]:
    """An emulator that waits only SHORT_VALIDATION_TIMEOUT for a validation answer."""
    process, url = start_emulator(
        "emulator-impatient",
        e2e_logs / "emulator-impatient.log",
        validation_timeout=SHORT_VALIDATION_TIMEOUT,
    )
    client = EmulatorClient(url, process)
    yield client
    client.http.close()
    stop(process)


@pytest.fixture
def impatient_emulator(stack, impatient_emulator_process) -> Iterator[EmulatorClient]:
    impatient_emulator_process.reset()
    yield impatient_emulator_process
    impatient_emulator_process.wait_idle()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections and never answers: a validation endpoint that hangs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)  # never accept(): the kernel queues the request, nobody replies
        yield sock.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: a validation endpoint that is down (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("response_type", ["Completed", "Cancelled"])
@pytest.mark.parametrize("endpoint", ["hangs", "refuses"])
def test_validation_without_answer_applies_the_response_type(
    stack, impatient_emulator, request, response_type, endpoint
):
    """Our ConfirmationURL is the real app; the ValidationURL never answers in time."""
    emulator = impatient_emulator
    port = request.getfixturevalue({"hangs": "silent_port", "refuses": "closed_port"}[endpoint])
    number = {"Completed": "60031", "Cancelled": "60032"}[response_type] + str(
        ["hangs", "refuses"].index(endpoint)
    )
    emulator.shortcode(number, external_validation=True)
    shortcode_save(number=number, name="Slow validation", response_type=response_type)
    with get_client(
        base_url=emulator.url, consumer_key=CONSUMER_KEY, consumer_secret=CONSUMER_SECRET
    ) as client:
        client.register_urls(
            shortcode=number,
            confirmation_url=stack.callback_url("confirmation"),
            validation_url=f"http://127.0.0.1:{port}/api/v1/c2b/validation",
            response_type=Shortcode.objects.get(number=number).response_type,
        )

    tx = emulator.pay(number, amount=640, account="NS0301")
    stack.wait_captured()

    validation = [d for d in tx["deliveries"] if d["kind"] == "validation"]
    assert len(validation) == 1 and validation[0]["status_code"] is None, tx
    assert validation[0]["error"], tx
    if endpoint == "hangs":
        assert validation[0]["duration_ms"] >= SHORT_VALIDATION_TIMEOUT * 1000 * 0.9, tx
    assert not ValidationDecision.objects.exists()
    if response_type == "Completed":
        assert tx["status"] == "completed", tx
        payment = Payment.objects.get(trans_id=tx["trans_id"])
        assert payment.amount == Decimal("640.00")
        assert payment.shortcode.number == number
        assert payment.validation is None
        assert CallbackReceipt.objects.get(kind="confirmation").status == "processed"
    else:
        assert tx["status"] == "cancelled", tx
        assert emulator.ledger(tx["trans_id"])["status"] == "cancelled"
        assert [d["kind"] for d in tx["deliveries"]] == ["validation"], tx
        assert not Payment.objects.exists()
        assert not CallbackReceipt.objects.exists()

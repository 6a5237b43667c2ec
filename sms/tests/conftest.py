import pytest


@pytest.fixture(autouse=True)
def memory_backend(settings):
    """Tests never reach a provider: the in-memory outbox stands in, emptied for each test."""
    from sms.backends import memory

    settings.SMS_BACKEND = "memory"
    memory.reset()
    yield memory
    memory.reset()


@pytest.fixture
def make_payment(paybill):
    """A stored payment, as capture stores it, without going through HTTP."""
    import itertools

    from c2b.models import Payment
    from c2b.payloads import parse_c2b
    from c2b.services.capture import payment_fields
    from conftest import load_payload

    counter = itertools.count(1)

    def make(**changes):
        changes.setdefault("TransID", f"TKR{next(counter):07d}")
        data = parse_c2b(load_payload("confirmation_v2_masked", **changes))
        return Payment.objects.create(shortcode=paybill, **payment_fields(data))

    return make


@pytest.fixture
def queued_sms(make_payment):
    """N receipt SMS queued for a full payer number, as capture writes them."""
    from sms.services import sms_receipt_enqueue

    def make(count: int = 1, **changes):
        changes.setdefault("MSISDN", "254712345678")
        return [
            sms_receipt_enqueue(payment=make_payment(**changes), member=None) for _ in range(count)
        ]

    return make

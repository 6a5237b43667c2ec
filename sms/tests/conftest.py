import pytest

from factories import make_receipt_sms


@pytest.fixture(autouse=True)
def memory_backend(settings):
    """Tests never reach a provider: the in-memory outbox stands in, emptied for each test."""
    from sms.backends import memory

    settings.SMS_BACKEND = "memory"
    memory.reset()
    yield memory
    memory.reset()


@pytest.fixture
def queued_sms(make_payment):
    """N receipt SMS queued for a full payer number, as capture writes them."""

    def make(count: int = 1, **fields):
        fields.setdefault("msisdn", "254712345678")
        return [make_receipt_sms(make_payment(**fields)) for _ in range(count)]

    return make

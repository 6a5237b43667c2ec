import pytest
from django.core.cache import cache

from daraja.client import DarajaClient


@pytest.fixture
def fresh_cache():
    """The client caches its OAuth token; a test using it starts without one."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client():
    """A Daraja client at the tests' base URL, its token cache in Django's cache."""
    with DarajaClient(
        base_url="https://daraja.test", consumer_key="key", consumer_secret="secret", cache=cache
    ) as c:
        yield c

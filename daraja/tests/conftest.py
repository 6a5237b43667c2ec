import pytest
from django.core.cache import cache


@pytest.fixture
def fresh_cache():
    """The client caches its OAuth token; a test using it starts without one."""
    cache.clear()
    yield
    cache.clear()

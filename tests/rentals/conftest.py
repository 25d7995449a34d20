import pytest

from tests.factories import CustomerFactory


@pytest.fixture
def customer(store):
    """MARY SMITH of ``store``, found at the desk by name or email (mary@x.org)."""
    return CustomerFactory(store=store, first_name="MARY", last_name="SMITH", email="mary@x.org")

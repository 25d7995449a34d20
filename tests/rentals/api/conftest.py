from datetime import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from tests.factories import CustomerFactory, FilmFactory, InventoryFactory

BACKDATED = datetime(2025, 3, 4, 10, 15)


@pytest.fixture
def api() -> APIClient:
    """A client with no login."""
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def clerk_api(clerk) -> APIClient:
    return client_for(clerk)


@pytest.fixture
def film(store):
    """A film with one copy at the clerk's store."""
    film = FilmFactory(title="ACADEMY DINOSAUR", rental_rate=Decimal("2.99"), rental_duration=3)
    InventoryFactory(film=film, store=store)
    return film


@pytest.fixture
def customer(store):
    return CustomerFactory(store=store, first_name="MARY", last_name="SMITH")

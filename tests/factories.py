"""factory_boy factories for the Sakila tables."""

from datetime import datetime
from decimal import Decimal

import factory
from django.db import transaction
from django.db.models import Max
from factory.django import DjangoModelFactory

from rentals import bulk
from rentals.models import (
    Actor,
    Address,
    Category,
    City,
    Country,
    Customer,
    Film,
    Inventory,
    Language,
    Payment,
    Rental,
    Staff,
    Store,
)


class LanguageFactory(DjangoModelFactory):
    class Meta:
        model = Language

    name = factory.Sequence(lambda n: f"Language {n}")


class CountryFactory(DjangoModelFactory):
    class Meta:
        model = Country

    country = factory.Sequence(lambda n: f"Country {n}")


class CityFactory(DjangoModelFactory):
    class Meta:
        model = City

    city = factory.Sequence(lambda n: f"City {n}")
    country = factory.SubFactory(CountryFactory)


class AddressFactory(DjangoModelFactory):
    class Meta:
        model = Address

    address = factory.Sequence(lambda n: f"{n} Main Street")
    district = "Central"
    city = factory.SubFactory(CityFactory)
    postal_code = "12345"
    phone = "5551234567"


class ActorFactory(DjangoModelFactory):
    class Meta:
        model = Actor

    first_name = factory.Sequence(lambda n: f"ACTOR{n}")
    last_name = "GUINESS"


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")


class FilmFactory(DjangoModelFactory):
    class Meta:
        model = Film

    title = factory.Sequence(lambda n: f"FILM NUMBER {n}")
    description = "A Epic Drama of a Feminist And a Mad Scientist"
    release_year = 2006
    language = factory.SubFactory(LanguageFactory)
    rental_duration = 3
    rental_rate = Decimal("2.99")
    length = 90
    replacement_cost = Decimal("19.99")
    rating = "PG"
    special_features = ["Trailers"]


class StoreFactory(DjangoModelFactory):
    """A store with its manager (staff and store reference each other)."""

    class Meta:
        model = Store

    address = factory.SubFactory(AddressFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        manager = kwargs.pop("manager_staff", None)
        with transaction.atomic(), bulk.foreign_key_checks_deferred():
            store_id = kwargs.pop("store_id", None) or next_id(Store)
            if manager is None:
                manager = Staff.objects.create(
                    first_name="Manager",
                    last_name=f"Of{store_id}",
                    address=AddressFactory(),
                    store_id=store_id,
                    username=f"manager{store_id}",
                )
            return model_class.objects.create(store_id=store_id, manager_staff=manager, **kwargs)


def next_id(model) -> int:
    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


class StaffFactory(DjangoModelFactory):
    class Meta:
        model = Staff

    first_name = factory.Sequence(lambda n: f"Clerk{n}")
    last_name = "Hillyer"
    address = factory.SubFactory(AddressFactory)
    email = factory.LazyAttribute(lambda o: f"{o.first_name}@sakilastaff.com")
    store = factory.SubFactory(StoreFactory)
    username = factory.Sequence(lambda n: f"clerk{n}")


class InventoryFactory(DjangoModelFactory):
    class Meta:
        model = Inventory

    film = factory.SubFactory(FilmFactory)
    store = factory.SubFactory(StoreFactory)


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    store = factory.SubFactory(StoreFactory)
    first_name = factory.Sequence(lambda n: f"CUSTOMER{n}")
    last_name = "SMITH"
    email = factory.LazyAttribute(lambda o: f"{o.first_name}.{o.last_name}@sakilacustomer.org")
    address = factory.SubFactory(AddressFactory)
    create_date = datetime(2005, 1, 1, 9, 0)


class RentalFactory(DjangoModelFactory):
    class Meta:
        model = Rental

    rental_date = factory.Sequence(lambda n: datetime(2005, 6, 1, 10, 0, n % 60))
    inventory = factory.SubFactory(InventoryFactory)
    customer = factory.SubFactory(CustomerFactory)
    staff = factory.SubFactory(StaffFactory)


class PaymentFactory(DjangoModelFactory):
    class Meta:
        model = Payment

    customer = factory.SubFactory(CustomerFactory)
    staff = factory.SubFactory(StaffFactory)
    rental = factory.SubFactory(RentalFactory)
    amount = Decimal("2.99")
    payment_date = datetime(2005, 6, 1, 10, 0)

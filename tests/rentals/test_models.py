from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from rentals.models import (
    SAKILA_MODELS,
    Customer,
    Film,
    FilmActor,
    FilmCategory,
    FilmText,
    Language,
    Payment,
    Rental,
    Store,
)
from tests.factories import (
    ActorFactory,
    CategoryFactory,
    CustomerFactory,
    FilmFactory,
    InventoryFactory,
    PaymentFactory,
    RentalFactory,
    StaffFactory,
    StoreFactory,
)

pytestmark = pytest.mark.django_db


def column_info(table: str) -> dict[str, object]:
    with connection.cursor() as cursor:
        return {
            column.name: column
            for column in connection.introspection.get_table_description(cursor, table)
        }


def test_every_table_has_the_sakila_name_and_columns():
    expected = {
        "language": ["language_id", "name", "last_update"],
        "country": ["country_id", "country", "last_update"],
        "city": ["city_id", "city", "country_id", "last_update"],
        "address": ["address_id", "address", "address2", "district", "city_id", "postal_code",
                    "phone", "last_update"],
        "actor": ["actor_id", "first_name", "last_name", "last_update"],
        "category": ["category_id", "name", "last_update"],
        "film": ["film_id", "title", "description", "release_year", "language_id",
                 "original_language_id", "rental_duration", "rental_rate", "length",
                 "replacement_cost", "rating", "special_features", "last_update"],
        "film_actor": ["actor_id", "film_id", "last_update"],
        "film_category": ["film_id", "category_id", "last_update"],
        "film_text": ["film_id", "title", "description"],
        "staff": ["staff_id", "first_name", "last_name", "address_id", "picture", "email",
                  "store_id", "active", "username", "password", "last_update"],
        "store": ["store_id", "manager_staff_id", "address_id", "last_update"],
        "inventory": ["inventory_id", "film_id", "store_id", "last_update"],
        "customer": ["customer_id", "store_id", "first_name", "last_name", "email", "address_id",
                     "active", "create_date", "last_update"],
        "rental": ["rental_id", "rental_date", "inventory_id", "customer_id", "return_date",
                   "staff_id", "last_update"],
        "payment": ["payment_id", "customer_id", "staff_id", "rental_id", "amount",
                    "payment_date", "last_update"],
    }  # fmt: skip
    for table, columns in expected.items():
        assert sorted(column_info(table)) == sorted(columns), table


def test_nullable_columns_follow_the_contract():
    nullable = {
        (table, name)
        for table in ("address", "film", "staff", "customer", "rental", "payment")
        for name, column in column_info(table).items()
        if column.null_ok
    }
    assert nullable == {
        ("address", "address2"),
        ("address", "postal_code"),
        ("film", "description"),
        ("film", "release_year"),
        ("film", "original_language_id"),
        ("film", "length"),
        ("film", "rating"),
        ("film", "special_features"),
        ("staff", "picture"),
        ("staff", "email"),
        ("staff", "password"),
        ("customer", "email"),
        ("customer", "last_update"),
        ("rental", "return_date"),
        ("payment", "rental_id"),
        ("payment", "last_update"),
    }


def test_database_defaults_fill_rows_inserted_outside_the_orm():
    language = Language.objects.create(name="English")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO film (title, language_id) VALUES (%s, %s)", ["RAW FILM", language.pk]
        )
    film = Film.objects.get(title="RAW FILM")
    assert film.rental_duration == 3
    assert film.rental_rate == Decimal("4.99")
    assert film.replacement_cost == Decimal("19.99")
    assert film.rating == "G"
    assert film.last_update is not None


def test_film_round_trip_keeps_every_value():
    original = Language.objects.create(name="Japanese")
    film = FilmFactory(
        title="ACADEMY DINOSAUR",
        release_year=2006,
        original_language=original,
        rental_rate=Decimal("0.99"),
        replacement_cost=Decimal("20.99"),
        rating="PG-13",
        special_features=["Deleted Scenes", "Behind the Scenes"],
    )
    stored = Film.objects.get(pk=film.pk)
    assert stored.title == "ACADEMY DINOSAUR"
    assert stored.release_year == 2006
    assert stored.original_language == original
    assert stored.rental_rate == Decimal("0.99")
    assert stored.replacement_cost == Decimal("20.99")
    assert stored.rating == "PG-13"
    assert stored.special_features == ["Deleted Scenes", "Behind the Scenes"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT special_features FROM film WHERE film_id = %s", [film.pk])
        assert cursor.fetchone()[0] == "Deleted Scenes,Behind the Scenes"


def test_special_features_accept_only_the_four_options():
    film = FilmFactory()
    film.special_features = ["Trailers", "Bloopers"]
    with pytest.raises(Exception, match="Bloopers"):
        film.full_clean()


def test_language_name_is_fixed_width_char():
    assert "char" in Language._meta.get_field("name").db_type(connection)
    assert str(Language.objects.create(name="French")) == "French"


def test_every_model_round_trips(django_assert_num_queries):
    payment = PaymentFactory(amount=Decimal("11.99"))
    rental = payment.rental
    rental.return_date = rental.rental_date + timedelta(days=4)
    rental.save()
    actor = ActorFactory()
    category = CategoryFactory()
    rental.inventory.film.actors.add(actor)
    rental.inventory.film.categories.add(category)

    stored = Payment.objects.select_related(
        "rental__inventory__film__language", "rental__inventory__store__address__city__country",
        "customer__address", "staff__store",
    ).get(pk=payment.pk)  # fmt: skip
    assert stored.amount == Decimal("11.99")
    assert stored.rental.return_date == rental.rental_date + timedelta(days=4)
    film = stored.rental.inventory.film
    assert list(film.actors.all()) == [actor]
    assert list(film.categories.all()) == [category]
    assert list(actor.films.all()) == [film]
    for model in SAKILA_MODELS:
        assert model.objects.exists(), model


def test_film_actor_and_film_category_have_composite_primary_keys():
    film, actor, category = FilmFactory(), ActorFactory(), CategoryFactory()
    link = FilmActor.objects.create(film=film, actor=actor)
    assert link.pk == (actor.pk, film.pk)
    assert FilmActor.objects.get(pk=(actor.pk, film.pk)) == link
    assert FilmCategory.objects.create(film=film, category=category).pk == (film.pk, category.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        FilmActor.objects.create(film=film, actor=actor)


def test_rental_date_inventory_customer_is_unique():
    rental = RentalFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Rental.objects.create(
            rental_date=rental.rental_date,
            inventory=rental.inventory,
            customer=rental.customer,
            staff=rental.staff,
        )


def test_a_store_has_one_manager_and_a_manager_one_store():
    store = StoreFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Store.objects.create(manager_staff=store.manager_staff, address=store.address)


def test_staff_and_store_reference_each_other():
    clerk = StaffFactory()
    assert clerk.store.manager_staff.store == clerk.store
    assert set(clerk.store.staff.all()) == {clerk, clerk.store.manager_staff}


def test_rating_outside_the_five_is_refused_by_the_database():
    film = FilmFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Film.objects.filter(pk=film.pk).update(rating="X")


def test_deleting_a_rented_copy_is_refused_and_deleting_a_rental_keeps_its_payments():
    payment = PaymentFactory()
    with pytest.raises(ProtectedError):
        payment.rental.inventory.delete()
    payment.rental.delete()
    payment.refresh_from_db()
    assert payment.rental is None


def test_last_update_is_set_on_insert():
    before = timezone.now() - timedelta(seconds=1)
    customer = CustomerFactory()
    assert Customer.objects.get(pk=customer.pk).last_update >= before


def backdate_last_update(customer: Customer, value: datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customer SET last_update = %s WHERE customer_id = %s", [value, customer.pk]
        )


def test_last_update_moves_on_save_and_on_queryset_update():
    customer = CustomerFactory()
    old = datetime(2006, 2, 15, 4, 57, 20)
    backdate_last_update(customer, old)  # as loaded data is

    customer.refresh_from_db()
    customer.first_name = "MARIA"
    customer.save()
    customer.refresh_from_db()
    assert customer.last_update > old

    backdate_last_update(customer, old)
    Customer.objects.filter(pk=customer.pk).update(active=False)
    customer.refresh_from_db()
    assert customer.last_update > old
    assert customer.active is False


def test_film_text_follows_film_on_insert_update_and_delete():
    film = FilmFactory(title="ACE GOLDFINGER", description="A Astounding Epistle")
    assert FilmText.objects.get(film_id=film.pk).title == "ACE GOLDFINGER"

    film.title = "ACE GOLDFINGER II"
    film.description = None
    film.save()
    text = FilmText.objects.get(film_id=film.pk)
    assert (text.title, text.description) == ("ACE GOLDFINGER II", None)

    film_id = film.pk
    film.delete()
    assert not FilmText.objects.filter(film_id=film_id).exists()


def test_inventory_belongs_to_a_film_and_a_store():
    copy = InventoryFactory()
    assert copy in copy.film.inventory.all()
    assert copy in copy.store.inventory.all()

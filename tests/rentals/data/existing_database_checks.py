"""Run against a database made by MySQL's Sakila schema, after migrate --fake-initial.

Started as a script by tests/rentals/test_existing_database.py; prints "ok".
"""

from datetime import datetime
from decimal import Decimal

import django

django.setup()

from rentals.models import Customer, Film, FilmText, Payment, Rental  # noqa: E402

film = Film.objects.get(pk=1)
assert film.special_features == ["Trailers", "Deleted Scenes"], film.special_features
assert (film.release_year, film.rating, str(film.rental_rate)) == (2006, "PG-13", "0.99")
assert [actor.last_name for actor in film.actors.all()] == ["GUINESS"]
assert [category.name for category in film.categories.all()] == ["Action"]

customer = Customer.objects.get(pk=1)
before = customer.last_update
customer.first_name = "MARIA"
customer.save()
customer.refresh_from_db()
assert customer.last_update > before, (customer.last_update, before)

rental = Rental.objects.create(
    rental_date=datetime(2006, 2, 15, 10, 0), inventory_id=1, customer=customer, staff_id=1
)
assert rental.pk == 2, rental.pk
payment = Payment.objects.create(
    customer=customer, staff_id=1, rental=rental, amount="4.99", payment_date=rental.rental_date
)
assert Rental.objects.get(pk=2).payments.get().amount == Decimal("4.99")

new_film = Film.objects.create(
    title="NEW RELEASE", language_id=1, special_features=["Commentaries"]
)
assert FilmText.objects.get(film_id=new_film.pk).title == "NEW RELEASE"
assert Film.objects.get(pk=new_film.pk).special_features == ["Commentaries"]

rental.delete()
payment.refresh_from_db()
assert payment.rental_id is None
print("ok")

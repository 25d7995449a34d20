"""Renting on a database made by MySQL's Sakila DDL whose payment ids ran out.

Started as a script by tests/rentals/test_existing_database.py with ``before``
(payment_id 65,535 is taken: renting is refused, nothing written) or
``after`` (widen_ids ran: renting works, the payment gets id 65,536);
prints "ok".
"""

import sys

import django

django.setup()

from django.core.exceptions import ValidationError  # noqa: E402

from rentals import services  # noqa: E402
from rentals.models import Customer, Film, Payment, Rental, Staff  # noqa: E402

customer, film, staff = Customer.objects.get(pk=1), Film.objects.get(pk=1), Staff.objects.get(pk=1)
rentals, payments = Rental.objects.count(), Payment.objects.count()
if sys.argv[1] == "before":
    try:
        services.rental_create(customer=customer, film=film, staff=staff)
    except ValidationError as error:
        message = error.messages[0]
        assert "payment_id column (SMALLINT UNSIGNED) holds ids up to 65,535" in message, message
        assert "widen_ids" in message, message
    else:
        raise AssertionError("renting was not refused")
    assert (Rental.objects.count(), Payment.objects.count()) == (rentals, payments)
else:
    rental = services.rental_create(customer=customer, film=film, staff=staff)
    assert rental.payments.get().pk == 65_536, rental.payments.get().pk
print("ok")

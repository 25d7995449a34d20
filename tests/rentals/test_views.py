"""The rental desk (/desk/), as a clerk uses it."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from rentals import forms, pricing, services
from rentals.models import Payment, Rental
from tests.factories import (
    CustomerFactory,
    FilmFactory,
    InventoryFactory,
    RentalFactory,
    StoreFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, clerk) -> Client:
    client.force_login(clerk)
    return client


@pytest.fixture
def film(store):
    film = FilmFactory(title="ACADEMY DINOSAUR", rental_duration=3, rental_rate=Decimal("0.99"))
    InventoryFactory(film=film, store=store)
    return film


def page(response) -> str:
    return response.content.decode()


def test_the_desk_needs_a_login(client):
    response = client.get(reverse("desk:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_desk_is_for_users_who_may_rent(client):
    client.force_login(get_user_model().objects.create_user("visitor", password="x"))
    assert client.get(reverse("desk:index")).status_code == 403


def test_a_login_without_a_staff_row_is_told_why(client):
    from sakila_site.roles import CLERK
    from tests.conftest import make_role_user

    client.force_login(make_role_user(CLERK))
    response = client.get(reverse("desk:index"))
    assert response.status_code == 403
    assert services.STAFF_NOT_LINKED in page(response)


def test_the_desk_offers_films_with_a_free_copy_at_the_clerks_store(desk, store, film, customer):
    elsewhere = FilmFactory(title="ELSEWHERE ONLY")
    InventoryFactory(film=elsewhere, store=StoreFactory())
    all_out = FilmFactory(title="ALL OUT")
    InventoryFactory(film=all_out, store=store)
    services.rental_create(customer=customer, film=all_out, staff=store.manager_staff)

    response = desk.get(reverse("desk:index"))

    assert response.status_code == 200
    offered = list(response.context["rent_form"].fields["film"].queryset)
    assert offered == [film]
    assert f"{store}" in page(response) and "ACADEMY DINOSAUR" in page(response)


def test_the_film_list_and_the_title_search_show_rating_rate_and_days_alike(desk, film):
    """The clerk reads the rental duration in the list before backdating a rental."""
    label = f"{film.title} ({film.rating}, ${film.rental_rate} for {film.rental_duration} days)"

    desk_page = page(desk.get(reverse("desk:index")))
    search = page(desk.get(reverse("desk:film-options"), {"q": film.title[:4]}))

    assert f'<option value="{film.pk}">{label}</option>' in desk_page
    assert f'<option value="{film.pk}">{label}</option>' in search


@pytest.mark.parametrize("typed", ["id", "email"])
def test_renting_confirms_copy_due_date_and_amount(desk, clerk, film, customer, typed):
    value = str(customer.pk) if typed == "id" else "MARY@X.ORG"

    response = desk.post(reverse("desk:rent"), {"customer": value, "film": film.pk}, follow=True)

    rental = Rental.objects.get()
    assert response.redirect_chain[-1][0] == reverse("desk:rental", args=[rental.pk])
    assert rental.staff == clerk.staff_profile.staff and rental.customer == customer
    text = page(response)
    assert f"Rented: copy {rental.inventory_id} to MARY SMITH." in text
    assert f"{rental.due_date:%Y-%m-%d %H:%M}" in text
    assert "$0.99" in text


def test_a_backdated_rental_shows_the_date_stored(desk, film, customer):
    rented = datetime(2026, 1, 2, 15, 45)
    response = desk.post(
        reverse("desk:rent"),
        {"customer": customer.pk, "film": film.pk, "rental_date": "2026-01-02T15:45"},
        follow=True,
    )
    assert Rental.objects.get().rental_date == rented
    assert "2026-01-02 15:45" in page(response) and "2026-01-05 15:45" in page(response)


@pytest.mark.parametrize(
    ("problem", "field", "message"),
    [
        ("unknown customer", "customer", forms.UNKNOWN_CUSTOMER.format(value="999")),
        ("not an id or email", "customer", forms.CUSTOMER_ID_OR_EMAIL),
        ("film not free here", "film", forms.FILM_NOT_FREE),
        ("unknown film", "film", forms.UNKNOWN_FILM.format(value="99999")),
        ("inactive customer", "customer", "is not an active customer"),
        ("future date", "rental_date", "is in the future"),
    ],
)
def test_renting_errors_are_shown_in_the_form_and_nothing_is_written(
    desk, film, customer, problem, field, message
):
    data = {"customer": customer.pk, "film": film.pk}
    if problem == "unknown customer":
        data["customer"] = "999"
    elif problem == "not an id or email":
        data["customer"] = "Mary"
    elif problem == "film not free here":
        elsewhere = FilmFactory()  # no copy at the clerk's store
        data["film"] = elsewhere.pk
        message = message.format(title=elsewhere.title)
    elif problem == "unknown film":
        data["film"] = "99999"
    elif problem == "inactive customer":
        customer.active = False
        customer.save()
    else:
        data["rental_date"] = (pricing.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")

    response = desk.post(reverse("desk:rent"), data)

    assert response.status_code == 400
    errors = response.context["rent_form"].errors[field]
    assert any(message in error for error in errors)
    assert message.replace("'", "&#x27;") in page(response)
    assert not Rental.objects.exists() and not Payment.objects.exists()


def test_a_date_before_the_stores_records_is_named_in_the_form(desk, clerk, film, customer):
    RentalFactory(
        inventory=film.inventory.get(),
        customer=customer,
        staff=clerk.staff_profile.staff,
        rental_date=datetime(2005, 5, 24, 22, 53),
        return_date=datetime(2005, 5, 26, 22, 4),
    )
    data = {
        "customer": customer.pk,
        "film": film.pk,
        "rental_date": "1990-01-01T10:00",
        "acknowledged": "on",  # the old rental's rate is owed: rent anyway
    }

    response = desk.post(reverse("desk:rent"), data)

    assert response.status_code == 400
    message = (
        "No copy of ACADEMY DINOSAUR at Store 1 is on record on 1990-01-01: "
        "the store&#x27;s records of it start on 2005-05-24."
    )
    assert message in page(response)
    [error] = response.context["rent_form"].errors["rental_date"]
    assert "1990-01-01" in error and "rented out" not in page(response)
    assert Rental.objects.count() == 1 and not Payment.objects.exists()


def test_returning_late_says_the_fee_is_owed_and_records_no_payment(desk, clerk, film, customer):
    rental = services.rental_create(
        customer=customer,
        film=film,
        staff=clerk.staff_profile.staff,
        rental_date=pricing.now() - timedelta(days=5),
    )
    response = desk.post(reverse("desk:return"), {"rental": rental.pk}, follow=True)

    rental.refresh_from_db()
    assert rental.return_date is not None
    assert "after 5 days, 2 days late: late fee $2.00 owed." in page(response)
    assert list(rental.payments.values_list("amount", flat=True)) == [Decimal("0.99")]
    # The rental's page offers to take the fee now, prefilled.
    assert response.context["payment_form"].initial == {
        "amount": Decimal("2.00"),
        "rental": rental.pk,
    }


@pytest.mark.parametrize(
    ("number", "message"),
    [("424242", forms.UNKNOWN_RENTAL.format(value=424242)), ("99999999999", "less than or equal")],
)
def test_returning_an_unknown_rental_number_is_an_error(desk, number, message):
    response = desk.post(reverse("desk:return"), {"rental": number})
    assert response.status_code == 400
    assert message in page(response)


def test_returning_twice_is_an_error(desk, clerk, film, customer):
    rental = services.rental_create(customer=customer, film=film, staff=clerk.staff_profile.staff)
    desk.post(reverse("desk:return"), {"rental": rental.pk})
    response = desk.post(reverse("desk:return"), {"rental": rental.pk})
    assert response.status_code == 400
    assert f"Rental {rental.pk} was already returned" in page(response)
    assert rental.payments.count() == 1


def test_the_customer_page_shows_balance_overdue_fees_and_payments(desk, clerk, film, customer):
    rental = services.rental_create(
        customer=customer,
        film=film,
        staff=clerk.staff_profile.staff,
        rental_date=pricing.now() - timedelta(days=4),
    )
    response = desk.get(reverse("desk:customer", args=[customer.pk]))
    assert response.status_code == 200
    # One day past due: the accrued fee is owed already.
    assert response.context["balance"] == Decimal("1.00")
    [out] = response.context["open_rentals"]
    assert out == rental and out.late_fee_now == Decimal("1.00")
    [overdue] = response.context["account"].overdue
    assert (overdue, overdue.days_late, overdue.late_fee) == (rental, 1, Decimal("1.00"))
    text = page(response)
    assert "$1.00 owed" in text and "Overdue: 1 copy, $1.00 in fees so far" in text
    assert "Payments received" in text and "$0.99" in text  # the rate paid at the counter


def test_taking_a_payment_lowers_the_balance(desk, clerk, film, customer):
    services.rental_create(
        customer=customer,
        film=film,
        staff=clerk.staff_profile.staff,
        rental_date=pricing.now() - timedelta(days=10),
    )
    response = desk.post(
        reverse("desk:customer-pay", args=[customer.pk]), {"amount": "3.50"}, follow=True
    )
    payment = Payment.objects.get(amount=Decimal("3.50"))
    assert payment.customer == customer and payment.rental is None
    assert f"Payment {payment.pk} of $3.50 received" in page(response)
    assert response.context["balance"] == Decimal("3.50")  # 7 days late, 3.50 paid
    assert "balance: $3.50 owed" in page(response)


@pytest.mark.parametrize("amount", ["0", "abc", "1000"])
def test_a_bad_payment_amount_is_an_error(desk, customer, amount):
    response = desk.post(reverse("desk:customer-pay", args=[customer.pk]), {"amount": amount})
    assert response.status_code == 400
    assert response.context["payment_form"].errors["amount"]
    assert not Payment.objects.exists()


def test_customer_lookup_finds_by_name_email_or_id(desk, customer):
    CustomerFactory(first_name="JOHN", last_name="DOE", email="john@x.org")
    for query in ["mary", "smi", "mary@x", str(customer.pk)]:
        response = desk.get(reverse("desk:customer-search"), {"q": query}, HTTP_HX_REQUEST="true")
        assert list(response.context["page"]) == [customer], query
        assert "<html" not in page(response)  # a fragment for htmx
    response = desk.get(reverse("desk:customer-search"), {"q": "nobody"}, HTTP_HX_REQUEST="true")
    assert "No customer matches" in page(response)
    full = desk.get(reverse("desk:customer-search"), {"q": "mary"})
    assert "<html" in page(full) and reverse("desk:customer", args=[customer.pk]) in page(full)


def test_film_search_lists_free_films_matching_the_title(desk, store, film):
    other = FilmFactory(title="ZORRO RETURNS")
    InventoryFactory(film=other, store=store)
    response = desk.get(reverse("desk:film-options"), {"q": "zorro"}, HTTP_HX_REQUEST="true")
    assert list(response.context["films"]) == [other]
    assert f'<option value="{other.pk}">' in page(response)


def test_unknown_and_oversized_ids_are_not_found(desk):
    assert desk.get("/desk/customers/424242/").status_code == 404
    assert desk.get("/desk/customers/99999999999999999999/").status_code == 404
    assert desk.get("/desk/rentals/0/").status_code == 404


def test_desk_posts_need_the_csrf_token(clerk, film, customer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)
    response = client.post(reverse("desk:rent"), {"customer": customer.pk, "film": film.pk})
    assert response.status_code == 403
    assert not Rental.objects.exists()

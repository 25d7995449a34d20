"""The desk's customer lookup (paging, exact ids, the keyboard combobox), renting
from a customer's page, films with no free copy here, and copies of another
store brought back here."""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from rentals import forms, pricing, services
from rentals.models import Rental
from tests.factories import CustomerFactory, FilmFactory, InventoryFactory, StoreFactory
from tests.problems import errors_of

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def desk(client, clerk) -> Client:
    client.force_login(clerk)
    return client


def page(response) -> str:
    return response.content.decode()


def twelve_smiths(store) -> list:
    return [
        CustomerFactory(store=store, first_name=f"ANN{n:02d}", last_name="SMITH") for n in range(12)
    ]


# --- Finding a customer ------------------------------------------------------------------


def test_a_name_search_pages_through_every_match(desk, store):
    smiths = twelve_smiths(store)
    url = reverse("desk:customer-search")

    first = desk.get(url, {"q": "smith"}, **HX)
    second = desk.get(url, {"q": "smith", "page": "2"}, **HX)

    assert list(first.context["page"]) == smiths[:10]
    assert "12 matches, showing 1\u201310" in page(first)
    assert f"{url}?q=smith&amp;page=2" in page(first) and "Next: 11\u201312" in page(first)
    assert list(second.context["page"]) == smiths[10:]
    assert "12 matches, showing 11\u201312" in page(second) and "Previous 10" in page(second)
    # Ten or fewer: no paging.
    one = desk.get(url, {"q": "ann03"}, **HX)
    assert "1 match" in page(one) and "showing" not in page(one)


def test_the_rent_forms_lookup_pages_inside_the_form(desk, store):
    twelve_smiths(store)
    response = desk.get(reverse("desk:customer-search"), {"customer": "smith", "pick": "1"}, **HX)
    html = page(response)
    assert 'hx-target="#customer-matches"' in html and "pick=1" in html


def test_searching_an_exact_id_or_email_opens_the_customer(desk, customer):
    url = reverse("desk:customer-search")
    opened = reverse("desk:customer", args=[customer.pk])

    assert desk.get(url, {"q": str(customer.pk)})["Location"] == opened
    assert desk.get(url, {"q": " MARY@x.org "})["Location"] == opened
    # A prefix, a name, or an email two customers share lists them instead.
    CustomerFactory(email="mary@x.org")
    for query in ("mary@x.org", "mary"):
        assert desk.get(url, {"q": query}).status_code == 200
    # The live lookup keeps showing the match as a list (Enter opens it).
    assert desk.get(url, {"q": str(customer.pk)}, **HX).status_code == 200


def test_the_rent_forms_customer_field_is_a_combobox_of_a_listbox(desk, customer):
    desk_page = page(desk.get(reverse("desk:index")))
    field = re.search(r'<input type="text" name="customer"[^>]*>', desk_page)[0]
    for attribute in (
        'role="combobox"',
        'aria-autocomplete="list"',
        'aria-expanded="false"',
        'aria-controls="customer-listbox"',
    ):
        assert attribute in field

    matches = page(
        desk.get(reverse("desk:customer-search"), {"customer": "mary", "pick": "1"}, **HX)
    )
    assert '<ul class="matches" role="listbox" id="customer-listbox"' in matches
    assert (
        f'<li role="option" id="customer-option-{customer.pk}" '
        f'data-value="{customer.pk}" aria-selected="false">'
    ) in matches


def test_the_desk_pages_have_no_inline_script_and_load_the_lookup(desk, customer):
    """A Content-Security-Policy forbids inline handlers: behaviour is in static files."""
    CustomerFactory(email="mary@x.org")  # the family-account chooser too
    pages = [
        desk.get(reverse("desk:index")),
        desk.post(reverse("desk:rent"), {"customer": "mary@x.org"}),
        desk.get(reverse("desk:customer-search"), {"customer": "mary", "pick": "1"}, **HX),
        desk.get(reverse("desk:customer", args=[customer.pk])),
    ]
    for response in pages:
        html = page(response)
        assert not re.search(r"\son[a-z]+=", html), html
        assert "<script>" not in html and " style=" not in html
    assert 'src="/static/js/lookup.js"' in page(pages[0])
    assert "data-pick-customer=" in page(pages[1])


def test_the_lookup_script_handles_arrows_enter_and_escape():
    script = (Path(settings.BASE_DIR) / "static" / "js" / "lookup.js").read_text()
    for key in ("ArrowDown", "ArrowUp", "Enter", "Escape", "aria-activedescendant"):
        assert key in script


# --- Renting from the customer's page -----------------------------------------------------


@pytest.fixture
def film(store):
    film = FilmFactory(title="ACADEMY DINOSAUR", rental_duration=3, rental_rate=Decimal("0.99"))
    InventoryFactory(film=film, store=store)
    return film


def test_the_customer_page_has_a_rent_form(desk, customer, film):
    response = desk.get(reverse("desk:customer", args=[customer.pk]))
    html = page(response)
    assert 'action="/desk/rent/"' in html
    assert f'<input type="hidden" name="customer" value="{customer.pk}">' in html
    assert f'<option value="{film.pk}">' in html
    assert "Rent to MARY SMITH" in html

    rented = desk.post(
        reverse("desk:rent"),
        {"customer": customer.pk, "film": film.pk, "page": "customer", "acknowledged": "True"},
    )
    rental = Rental.objects.get()
    assert rented["Location"] == reverse("desk:rental", args=[rental.pk])


def test_a_refusal_on_the_customer_page_is_shown_there(desk, customer, film):
    customer_page = reverse("desk:customer", args=[customer.pk])
    future = (pricing.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = desk.post(
        reverse("desk:rent"),
        {"customer": customer.pk, "film": film.pk, "page": "customer", "rental_date": future},
    )
    assert response.status_code == 400
    assert response.templates[0].name == "desk/customer.html"
    assert "is in the future" in page(response) and customer_page in page(response)
    assert not Rental.objects.exists()


def test_an_inactive_customers_page_says_they_cannot_rent(desk, customer, film):
    customer.active = False
    customer.save()
    html = page(desk.get(reverse("desk:customer", args=[customer.pk])))
    assert "is not an active customer, so cannot rent" in html
    assert 'action="/desk/rent/"' not in html


# --- A film with no free copy here ----------------------------------------------------------


@pytest.fixture
def all_out(store, customer):
    """A film whose only copy at the clerk's store is out (due in 3 days), with two copies
    free at another store."""
    film = FilmFactory(title="ALL OUT", rental_duration=3)
    InventoryFactory(film=film, store=store)
    other = StoreFactory()
    InventoryFactory.create_batch(2, film=film, store=other)
    rental = services.rental_create(customer=customer, film=film, staff=store.manager_staff)
    return film, other, rental.rental_date + timedelta(days=3)


def test_no_free_copy_says_when_it_is_back_and_where_it_is_free(store, customer, all_out):
    film, other, due = all_out
    with pytest.raises(services.ValidationError) as refused:
        services.rental_create(customer=customer, film=film, staff=store.manager_staff)
    assert refused.value.message_dict == {
        "film": [
            f"Every copy of ALL OUT at {store} is rented out. The first is due back on "
            f"{due:%Y-%m-%d %H:%M}. Free now at {other} (2 copies)."
        ]
    }


def test_an_overdue_copy_and_no_other_store(store, customer):
    film = FilmFactory(title="LONG GONE", rental_duration=3)
    InventoryFactory(film=film, store=store)
    rented = pricing.now() - timedelta(days=10)
    services.rental_create(
        customer=customer, film=film, staff=store.manager_staff, rental_date=rented
    )
    text = services.no_free_copy_message(film=film, store=store)
    due = rented + timedelta(days=3)
    assert text.endswith(
        f"The first was due back on {due:%Y-%m-%d %H:%M} (overdue). No other store has a free copy."
    )


def test_the_desk_says_it_when_the_last_copy_went_meanwhile(desk, customer, all_out):
    film, other, due = all_out
    response = desk.post(reverse("desk:rent"), {"customer": customer.pk, "film": film.pk})
    assert response.status_code == 400
    assert (
        f"ALL OUT has no free copy at your store. The first is due back on "
        f"{due:%Y-%m-%d %H:%M}. Free now at {other} (2 copies). "
        f"{forms.PICK_ANOTHER_FILM}"
    ) in page(response)


def test_the_title_search_names_films_not_free_here(desk, all_out):
    _, other, due = all_out
    html = page(desk.get(reverse("desk:film-options"), {"q": "all o"}, **HX))
    assert "No free film matches" in html
    assert (
        f'<option value="" disabled>ALL OUT: The first is due back on {due:%Y-%m-%d %H:%M}. '
        f"Free now at {other} (2 copies).</option>"
    ) in html


def test_the_api_says_it_too(client, clerk, customer, all_out):
    film, other, due = all_out
    client.force_login(clerk)
    response = client.post(
        "/api/rentals/", {"customer": customer.pk, "film": film.pk}, content_type="application/json"
    )
    assert response.status_code == 400
    assert f"The first is due back on {due:%Y-%m-%d %H:%M}" in errors_of(response)["film"][0]
    assert f"Free now at {other} (2 copies)." in errors_of(response)["film"][0]


# --- A copy of another store brought back here ----------------------------------------------


@pytest.fixture
def rented_elsewhere(customer):
    """A rental of a copy of another store (the customer rented it there)."""
    other = StoreFactory()
    film = FilmFactory(title="TRAVELLER")
    InventoryFactory(film=film, store=other)
    return services.rental_create(customer=customer, film=film, staff=other.manager_staff)


def test_any_store_takes_a_copy_back_and_names_its_store(store, rented_elsewhere):
    returned = services.rental_return(rental=rented_elsewhere, staff=store.manager_staff)
    copy = rented_elsewhere.inventory
    assert returned.rental.return_date is not None
    assert returned.send_back_to == copy.store
    assert returned.send_back_text == f"Copy {copy.pk} belongs to {copy.store}: send it back."
    copy.refresh_from_db()
    assert copy.store != store  # it stays in its own store's inventory
    at_home = services.rental_create(
        customer=rented_elsewhere.customer,
        film=copy.film,
        staff=copy.store.manager_staff,
    )
    assert at_home.inventory == copy  # and is rented there again


def test_a_copy_returned_at_its_own_store_needs_no_sending(rented_elsewhere):
    home = rented_elsewhere.inventory.store
    returned = services.rental_return(rental=rented_elsewhere, staff=home.manager_staff)
    assert returned.send_back_to is None and returned.send_back_text == ""


def test_the_desks_confirmation_says_where_the_copy_belongs(desk, rented_elsewhere):
    copy = rented_elsewhere.inventory
    response = desk.post(reverse("desk:return"), {"rental": rented_elsewhere.pk}, follow=True)
    assert response.status_code == 200
    assert f"Copy {copy.pk} belongs to {copy.store}: send it back." in page(response)


def test_the_api_names_the_store_to_send_it_back_to(client, clerk, rented_elsewhere):
    client.force_login(clerk)
    response = client.post(
        f"/api/rentals/{rented_elsewhere.pk}/return/", {}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["send_back_to"] == rented_elsewhere.inventory.store_id

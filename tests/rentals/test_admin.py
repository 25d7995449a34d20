"""The staff admin: every table, rentals and payments through the services,
the return action, lists that do not grow in queries, and permissions by role."""

import re
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from rentals import pricing, selectors, services
from rentals.admin import rentals as rentals_admin
from rentals.admin.formsets import ROW_GONE
from rentals.admin.payments import PaymentAdmin
from rentals.models import Film, FilmText, Payment, Rental, StaffProfile
from sakila_site.roles import CLERK
from tests.conftest import make_role_user, only_on_mysql
from tests.factories import (
    ActorFactory,
    AddressFactory,
    CategoryFactory,
    CityFactory,
    CountryFactory,
    CustomerFactory,
    FilmFactory,
    InventoryFactory,
    LanguageFactory,
    PaymentFactory,
    RentalFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


def url(model: str, view: str, *args) -> str:
    return reverse(f"admin:rentals_{model}_{view}", args=args)


def form_errors(response) -> dict[str, list[str]]:
    assert response.status_code == 200, "the form should be shown again"
    return response.context["adminform"].form.errors


def message_texts(response) -> list[str]:
    """The messages queued for the next page, as text (they hold links)."""
    return [strip_tags(str(message)) for message in get_messages(response.wsgi_request)]


def nothing_written() -> bool:
    return not Rental.objects.exists() and not Payment.objects.exists()


@pytest.fixture
def film(store):
    """A 3-day film at $2.99 (replacement $19.99) with one copy at ``store``."""
    film = FilmFactory(
        title="ACADEMY DINOSAUR",
        rental_duration=3,
        rental_rate=Decimal("2.99"),
        replacement_cost=Decimal("19.99"),
    )
    InventoryFactory(film=film, store=store)
    return film


@pytest.fixture
def customer(store):
    return CustomerFactory(store=store, first_name="MARY", last_name="SMITH")


@pytest.fixture
def no_staff_clerk(db):
    """A clerk whose login is not linked to a staff row."""
    return make_role_user(CLERK, username="unlinked")


# Every table -------------------------------------------------------------------------------------


@pytest.fixture
def one_of_each(store, film, customer):
    """A row of every Sakila table the admin shows, by model name."""
    country = CountryFactory(country="Canada")
    city = CityFactory(city="Lethbridge", country=country)
    address = AddressFactory(city=city)
    actor = ActorFactory(first_name="PENELOPE")
    category = CategoryFactory(name="Animation")
    film.actors.add(actor)
    film.categories.add(category)
    rental = RentalFactory(
        inventory=film.inventory.get(), customer=customer, staff=store.manager_staff
    )
    payment = PaymentFactory(customer=customer, staff=store.manager_staff, rental=rental)
    return {
        "language": film.language,
        "country": country,
        "city": city,
        "address": address,
        "actor": actor,
        "category": category,
        "film": film,
        "filmtext": FilmText.objects.get(pk=film.pk),
        "staff": store.manager_staff,
        "store": store,
        "inventory": film.inventory.get(),
        "customer": customer,
        "rental": rental,
        "payment": payment,
    }


SAKILA_ADMINS = [
    "language",
    "country",
    "city",
    "address",
    "actor",
    "category",
    "film",
    "filmtext",
    "staff",
    "store",
    "inventory",
    "customer",
    "rental",
    "payment",
]


@pytest.mark.parametrize("model", SAKILA_ADMINS)
def test_every_table_lists_searches_adds_and_shows(admin_client, one_of_each, model):
    obj = one_of_each[model]
    changelist = admin_client.get(url(model, "changelist"))
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count >= 1
    for term in ("a", str(obj.pk), "MARY", "nobody@example.com"):
        assert admin_client.get(url(model, "changelist"), {"q": term}).status_code == 200
    add = admin_client.get(url(model, "add"))
    # film_text follows film: nobody adds to it.
    assert add.status_code == (403 if model == "filmtext" else 200)
    assert admin_client.get(url(model, "change", obj.pk)).status_code == 200


def test_searches_find_by_id_name_email_and_title(admin_client, one_of_each):
    rental, customer = one_of_each["rental"], one_of_each["customer"]
    other = RentalFactory()

    def found(model: str, term: str) -> set[int]:
        response = admin_client.get(url(model, "changelist"), {"q": term})
        return {obj.pk for obj in response.context["cl"].result_list}

    assert found("rental", str(rental.pk)) == {rental.pk}
    assert found("rental", str(customer.pk)) == {rental.pk}
    assert found("rental", "mary smi") == {rental.pk}
    assert found("rental", customer.email.upper()) == {rental.pk}
    assert found("rental", "dinosaur") == {rental.pk}
    assert other.pk in found("rental", other.customer.last_name)
    assert found("payment", str(rental.pk)) == {one_of_each["payment"].pk}
    assert found("payment", "smith") == {one_of_each["payment"].pk}
    assert found("customer", str(customer.pk)) == {customer.pk}
    assert customer.pk in found("customer", "mary")
    assert found("film", "academy") == {one_of_each["film"].pk}
    assert found("inventory", "academy") == {one_of_each["inventory"].pk}


def test_filters_of_the_big_lists_apply(admin_client, one_of_each):
    rental = one_of_each["rental"]
    out = admin_client.get(url("rental", "changelist"), {"status": "out"})
    assert [r.pk for r in out.context["cl"].result_list] == [rental.pk]
    returned = admin_client.get(url("rental", "changelist"), {"status": "returned"})
    assert list(returned.context["cl"].result_list) == []
    by_customer = admin_client.get(
        url("rental", "changelist"), {"customer__customer_id__exact": rental.customer_id}
    )
    assert [r.pk for r in by_customer.context["cl"].result_list] == [rental.pk]
    payments = admin_client.get(
        url("payment", "changelist"), {"customer__customer_id__exact": rental.customer_id}
    )
    assert [p.pk for p in payments.context["cl"].result_list] == [one_of_each["payment"].pk]
    active = admin_client.get(url("customer", "changelist"), {"active__exact": "1"})
    assert active.status_code == 200


def test_the_film_list_shows_categories_and_copies_per_store(admin_client, one_of_each, store):
    other_store = InventoryFactory(film=one_of_each["film"]).store
    InventoryFactory(film=one_of_each["film"], store=other_store)
    page = admin_client.get(url("film", "changelist")).content.decode()
    assert f"Store {store.pk}: 1 · Store {other_store.pk}: 2" in page
    assert "Animation" in page


def test_film_text_is_read_only(admin_client, one_of_each):
    film_text = one_of_each["filmtext"]
    response = admin_client.post(url("filmtext", "change", film_text.pk), {"title": "X"})
    assert response.status_code == 403
    assert (
        admin_client.post(url("filmtext", "delete", film_text.pk), {"post": "yes"}).status_code
        == 403
    )


def test_a_film_is_edited_with_its_actors_and_categories(admin_client, film):
    actor, category = ActorFactory(), CategoryFactory()
    data = {
        "title": "ACADEMY DINOSAUR II",
        "description": "A sequel",
        "release_year": "2006",
        "language": film.language_id,
        "rental_duration": "5",
        "rental_rate": "0.99",
        "replacement_cost": "20.99",
        "length": "86",
        "rating": "PG",
        "special_features": ["Trailers", "Deleted Scenes"],
        "filmcategory_set-TOTAL_FORMS": "1",
        "filmcategory_set-INITIAL_FORMS": "0",
        "filmcategory_set-0-category": category.pk,
        "filmactor_set-TOTAL_FORMS": "1",
        "filmactor_set-INITIAL_FORMS": "0",
        "filmactor_set-0-actor": actor.pk,
    }
    response = admin_client.post(url("film", "change", film.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    film.refresh_from_db()
    assert film.title == "ACADEMY DINOSAUR II"
    assert film.special_features == ["Trailers", "Deleted Scenes"]
    assert list(film.actors.all()) == [actor]
    assert list(film.categories.all()) == [category]
    assert FilmText.objects.get(pk=film.pk).title == "ACADEMY DINOSAUR II"


class FormFields(HTMLParser):
    """The values a browser would post from a page's admin form: inputs,
    checked boxes, selected options and text areas, by name."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, list[str]] = defaultdict(list)
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields[name].append(attrs.get("value") or "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields[self._select].append(attrs.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            # The browser drops the newline that follows <textarea>.
            self.fields[self._textarea][-1] += data.removeprefix("\n")


def admin_form_data(page) -> dict[str, list[str]]:
    """What clicking Save on ``page`` (an admin change form) posts, unchanged."""
    parser = FormFields()
    parser.feed(page.content.decode())
    # The empty inline rows Django keeps for "Add another" are templates, not rows.
    return {name: values for name, values in parser.fields.items() if "__prefix__" not in name}


@pytest.fixture
def cast_film(film):
    """``film`` with two actors and two categories, as the Sakila films have."""
    film.actors.add(ActorFactory(first_name="PENELOPE"), ActorFactory(first_name="NICK"))
    film.categories.add(CategoryFactory(name="Animation"), CategoryFactory(name="Comedy"))
    return film


def test_a_film_with_actors_and_categories_saves_unchanged(admin_client, cast_film):
    page = admin_client.get(url("film", "change", cast_film.pk))
    data = admin_form_data(page)
    assert data["filmactor_set-INITIAL_FORMS"] == ["2"]
    response = admin_client.post(url("film", "change", cast_film.pk), data)
    assert response.status_code == 302
    assert set(cast_film.actors.values_list("first_name", flat=True)) == {"PENELOPE", "NICK"}
    assert set(cast_film.categories.values_list("name", flat=True)) == {"Animation", "Comedy"}
    # The actor's page lists the same rows, by film.
    actor = cast_film.actors.get(first_name="PENELOPE")
    data = admin_form_data(admin_client.get(url("actor", "change", actor.pk)))
    assert admin_client.post(url("actor", "change", actor.pk), data).status_code == 302
    assert list(actor.films.all()) == [cast_film]


def test_a_film_gains_and_loses_actors_and_categories(admin_client, cast_film):
    penelope = cast_film.actors.get(first_name="PENELOPE")
    animation = cast_film.categories.get(name="Animation")
    new_actor, new_category = ActorFactory(first_name="ED"), CategoryFactory(name="Drama")
    data = admin_form_data(admin_client.get(url("film", "change", cast_film.pk)))
    for prefix, removed, added in (
        ("filmactor_set", ("actor", penelope.pk), ("actor", new_actor.pk)),
        ("filmcategory_set", ("category", animation.pk), ("category", new_category.pk)),
    ):
        field, pk = removed
        [row] = [
            name.removesuffix(f"-{field}")
            for name, values in data.items()
            if name.startswith(prefix) and name.endswith(f"-{field}") and values == [str(pk)]
        ]
        data[f"{row}-DELETE"] = ["on"]
        field, pk = added
        total = int(data[f"{prefix}-TOTAL_FORMS"][0])
        data[f"{prefix}-{total}-{field}"] = [str(pk)]
        data[f"{prefix}-TOTAL_FORMS"] = [str(total + 1)]
    response = admin_client.post(url("film", "change", cast_film.pk), data)
    assert response.status_code == 302
    assert set(cast_film.actors.values_list("first_name", flat=True)) == {"NICK", "ED"}
    assert set(cast_film.categories.values_list("name", flat=True)) == {"Comedy", "Drama"}


def test_a_row_given_another_actor_replaces_the_old_one(admin_client, cast_film):
    penelope = cast_film.actors.get(first_name="PENELOPE")
    ed = ActorFactory(first_name="ED")
    data = admin_form_data(admin_client.get(url("film", "change", cast_film.pk)))
    [row] = [
        name
        for name, values in data.items()
        if name.startswith("filmactor_set-")
        and name.endswith("-actor")
        and values == [str(penelope.pk)]
    ]
    data[row] = [str(ed.pk)]
    response = admin_client.post(url("film", "change", cast_film.pk), data)
    assert response.status_code == 302
    assert set(cast_film.actors.values_list("first_name", flat=True)) == {"NICK", "ED"}


def test_an_actor_twice_or_a_tampered_row_is_a_form_error(admin_client, cast_film):
    nick = cast_film.actors.get(first_name="NICK")
    change = url("film", "change", cast_film.pk)
    data = admin_form_data(admin_client.get(change))
    data["filmactor_set-2-actor"] = [str(nick.pk)]
    data["filmactor_set-TOTAL_FORMS"] = ["3"]
    response = admin_client.post(change, data)
    assert response.status_code == 200
    assert "Please correct the duplicate data for actor" in response.content.decode()

    for key in ("(1, 14)", "[999, 999]", "not a key"):
        data = admin_form_data(admin_client.get(change))
        data["filmactor_set-0-pk"] = [key]
        response = admin_client.post(change, data)
        assert response.status_code == 200
        assert ROW_GONE in response.content.decode()
    assert set(cast_film.actors.values_list("first_name", flat=True)) == {"PENELOPE", "NICK"}


RATINGS = ["G", "PG", "PG-13", "R", "NC-17"]


def test_ratings_read_as_on_the_box_in_the_list_filter_and_form(admin_client):
    films = {rating: FilmFactory(title=f"RATED {rating}", rating=rating) for rating in RATINGS}
    changelist = admin_client.get(url("film", "changelist"))
    page = changelist.content.decode()
    for rating in films:
        # The list's rating cell, and the filter's link to that rating.
        assert f'<td class="field-rating">{rating}</td>' in page
        assert f'<a href="?rating__exact={rating}">{rating}</a>' in page
    # As text between tags: a CSRF token may hold the letters "Pg" too.
    assert not re.search(r">\s*(Pg|Nc 17|Pg 13)\s*<", page)

    form = admin_client.get(url("film", "change", films["PG"].pk)).content.decode()
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', form)
    assert [(value, label) for value, label in options if value in RATINGS] == [
        (rating, rating) for rating in RATINGS
    ]
    assert '<option value="PG" selected>PG</option>' in form


def test_deleting_films_from_the_list_deletes_their_film_text(admin_client):
    films = FilmFactory.create_batch(2)
    response = admin_client.post(
        url("film", "changelist"),
        {"action": "delete_selected", "_selected_action": [f.pk for f in films], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Film.objects.exists()
    assert not FilmText.objects.exists()


# Renting through the admin -----------------------------------------------------------------------


def rent(client, customer, film, rental_date: datetime | None = None, **extra):
    data = {
        "customer": customer.pk,
        "film": film.pk,
        "rental_date_0": f"{rental_date:%Y-%m-%d}" if rental_date else "",
        "rental_date_1": f"{rental_date:%H:%M:%S}" if rental_date else "",
        **extra,
    }
    return client.post(url("rental", "add"), data)


def test_the_add_page_says_who_rents_at_which_store(client, clerk, store):
    client.force_login(clerk)
    response = client.get(url("rental", "add"))
    page = response.content.decode()
    assert f"Recorded by {clerk.staff_profile.staff} at {store}." in page
    # The film list is the film admin's search, through the autocomplete view.
    assert 'data-model-name="inventory"' in page and 'data-field-name="film"' in page
    films = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "rentals", "model_name": "inventory", "field_name": "film", "term": "x"},
    )
    assert films.status_code == 200
    # "Rent a film" on a customer's page fills the customer in.
    customer = CustomerFactory(store=store, first_name="PREFILLED")
    page = client.get(url("rental", "add"), {"customer": customer.pk}).content.decode()
    assert f'<option value="{customer.pk}" selected>PREFILLED SMITH</option>' in page


def test_rental_add_rents_through_the_service_with_the_clerks_staff(client, clerk, film, customer):
    client.force_login(clerk)
    response = rent(client, customer, film)

    rental = Rental.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("rental", "change", rental.pk)
    assert rental.staff == clerk.staff_profile.staff
    assert rental.customer == customer and rental.inventory.film == film
    payment = Payment.objects.get()
    assert (payment.rental, payment.amount, payment.staff) == (
        rental,
        film.rental_rate,
        rental.staff,
    )
    [message] = message_texts(response)
    assert f"copy {rental.inventory_id} at {clerk.staff_profile.staff.store}" in message
    assert f"on {rental.rental_date:%Y-%m-%d %H:%M:%S}" in message
    assert f"due {rental.due_date:%Y-%m-%d %H:%M}" in message
    assert message.endswith("charged $2.99.")

    page = client.get(response["Location"]).content.decode()
    assert "$2.99</div>" in page
    assert 'name="_save"' not in page, "a stored rental is read-only"


def test_rental_add_stores_a_backdated_rental(client, clerk, film, customer):
    client.force_login(clerk)
    rent(client, customer, film, datetime(2024, 1, 2, 10, 30))
    rental = Rental.objects.get()
    assert rental.rental_date == datetime(2024, 1, 2, 10, 30)
    assert rental.payments.get().payment_date == rental.rental_date


@pytest.mark.parametrize(
    "case", ["no free copy", "not stocked", "inactive customer", "future date", "inactive staff"]
)
def test_rental_add_shows_the_services_refusal_and_writes_nothing(
    client, clerk, film, customer, store, case
):
    staff = clerk.staff_profile.staff
    rental_date, field = None, "film"
    if case == "no free copy":
        RentalFactory(inventory=film.inventory.get(), customer=CustomerFactory(store=store))
        expected = services.no_free_copy_message(film=film, store=store)
    elif case == "not stocked":
        film = FilmFactory()
        expected = services.FILM_NOT_STOCKED.format(film=film, store=store)
    elif case == "inactive customer":
        customer.active = False
        customer.save()
        field, expected = "customer", services.CUSTOMER_INACTIVE.format(customer=customer)
    elif case == "future date":
        rental_date = (pricing.now() + timedelta(days=1)).replace(second=0)
        field, expected = "rental_date", services.RENTAL_DATE_IN_FUTURE.format(date=rental_date)
    else:
        staff.active = False
        staff.save()
        field, expected = "__all__", services.STAFF_INACTIVE.format(staff=staff)
    rentals_before = Rental.objects.count()
    client.force_login(clerk)

    response = rent(client, customer, film, rental_date)

    assert form_errors(response)[field] == [expected]
    assert Rental.objects.count() == rentals_before
    assert not Payment.objects.exists()


def test_rental_add_without_a_staff_row_is_a_form_error(client, no_staff_clerk, film, customer):
    client.force_login(no_staff_clerk)
    assert services.STAFF_NOT_LINKED in client.get(url("rental", "add")).content.decode()

    response = rent(client, customer, film)

    assert form_errors(response)["__all__"] == [services.STAFF_NOT_LINKED]
    assert nothing_written()


def test_rental_add_rejects_a_bad_date_and_unknown_ids(client, clerk, film, customer):
    client.force_login(clerk)
    response = rent(client, customer, film, rental_date_0="2024-13-45", rental_date_1="25:00")
    assert "rental_date" in form_errors(response)
    response = client.post(url("rental", "add"), {"customer": "999999", "film": "abc"})
    assert set(form_errors(response)) == {"customer", "film"}
    assert nothing_written()


def test_an_existing_rental_cannot_be_changed(client, clerk, one_of_each):
    rental = one_of_each["rental"]
    client.force_login(clerk)
    assert client.get(url("rental", "change", rental.pk)).status_code == 200
    response = client.post(url("rental", "change", rental.pk), {"return_date_0": "2024-01-01"})
    assert response.status_code == 403
    rental.refresh_from_db()
    assert rental.return_date is None


# Returning ---------------------------------------------------------------------------------------


def return_selected(client, rentals):
    return client.post(
        url("rental", "changelist"),
        {"action": "mark_returned", "_selected_action": [r.pk for r in rentals]},
    )


def test_the_return_action_returns_leaves_fees_owed_and_skips_returned(
    client, clerk, film, customer, store
):
    staff = clerk.staff_profile.staff
    ten_days_ago = pricing.now() - timedelta(days=10)
    late = services.rental_create(
        customer=customer, film=film, staff=staff, rental_date=ten_days_ago
    )
    on_time_film = FilmFactory(rental_duration=7)
    InventoryFactory(film=on_time_film, store=store)
    on_time = services.rental_create(customer=customer, film=on_time_film, staff=staff)
    done = RentalFactory(return_date=datetime(2005, 6, 2, 10, 0))
    client.force_login(clerk)

    response = return_selected(client, [late, on_time, done])

    assert response.status_code == 302
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert late.return_date is not None and on_time.return_date is not None
    # 10 days kept for 3: 7 days late, $7.00 owed, not paid.
    assert pricing.rental_late_fee(rental=late) == Decimal("7.00")
    assert late.payments.count() == 1 and on_time.payments.count() == 1  # the rates
    assert selectors.customer_balance_get(customer=customer) == Decimal("7.00")
    warning, success = message_texts(response)
    assert warning.startswith("Skipped 1 rental(s) already returned: ")
    assert services.ALREADY_RETURNED.format(rental_id=done.pk, date=done.return_date) in warning
    assert success == rentals_admin.RETURNED.format(count=2, fees="$7.00")


def test_the_return_action_without_a_staff_row_refuses(client, no_staff_clerk, one_of_each):
    rental = one_of_each["rental"]
    client.force_login(no_staff_clerk)
    response = return_selected(client, [rental])
    assert message_texts(response) == [services.STAFF_NOT_LINKED]
    rental.refresh_from_db()
    assert rental.return_date is None


def test_the_return_action_is_all_or_nothing(client, clerk, film, customer, store):
    staff = clerk.staff_profile.staff
    first = services.rental_create(customer=customer, film=film, staff=staff)
    # A rental dated in the future (loaded data, say) cannot be returned now.
    future = RentalFactory(rental_date=pricing.now() + timedelta(days=2))
    client.force_login(clerk)

    response = return_selected(client, [first, future])

    [message] = message_texts(response)
    assert message.startswith("Nothing was returned: ")
    first.refresh_from_db()
    assert first.return_date is None
    assert first.payments.count() == 1


def test_the_return_action_refuses_too_big_a_selection(client, clerk, monkeypatch):
    monkeypatch.setattr(rentals_admin, "RETURN_LIMIT", 1)
    rentals = RentalFactory.create_batch(2)
    client.force_login(clerk)
    response = return_selected(client, rentals)
    assert message_texts(response) == [rentals_admin.RETURN_TOO_MANY.format(limit=1, count=2)]
    assert not Rental.objects.filter(return_date__isnull=False).exists()


def test_the_return_action_needs_the_change_rental_permission(client, one_of_each, store):
    from django.contrib.auth.models import Permission

    viewer = make_role_user(CLERK, store=store, username="viewer")
    viewer.groups.clear()
    viewer.user_permissions.add(Permission.objects.get(codename="view_rental"))
    client.force_login(viewer)
    response = client.get(url("rental", "changelist"))
    assert "mark_returned" not in response.content.decode()
    return_selected(client, [one_of_each["rental"]])
    one_of_each["rental"].refresh_from_db()
    assert one_of_each["rental"].return_date is None


# Payments ----------------------------------------------------------------------------------------


def pay(client, customer, amount: str, rental=None):
    data = {
        "customer": customer.pk,
        "amount": amount,
        "rental": rental.pk if rental else "",
        "payment_date_0": "",
        "payment_date_1": "",
    }
    return client.post(url("payment", "add"), data)


def test_payment_add_goes_through_the_service(client, clerk, customer, one_of_each):
    client.force_login(clerk)
    rental = one_of_each["rental"]
    before = Payment.objects.count()

    response = pay(client, customer, "5.50", rental)

    assert response.status_code == 302
    payment = Payment.objects.latest("pk")
    assert Payment.objects.count() == before + 1
    assert (payment.amount, payment.customer, payment.rental) == (Decimal("5.50"), customer, rental)
    assert payment.staff == clerk.staff_profile.staff
    [message] = message_texts(response)
    assert message.startswith(f"Took $5.50 from {customer}: payment {payment.pk} on ")
    assert client.post(url("payment", "change", payment.pk), {"amount": "1"}).status_code == 403


def test_payment_add_shows_the_services_refusals(client, clerk, customer, no_staff_clerk):
    other_rental = RentalFactory()
    client.force_login(clerk)

    response = pay(client, customer, "0")
    assert form_errors(response)["amount"] == [services.PAYMENT_AMOUNT_RANGE.format(amount=0)]
    response = pay(client, customer, "2.00", other_rental)
    assert form_errors(response)["rental"] == [
        services.PAYMENT_RENTAL_OF_OTHER_CUSTOMER.format(
            rental_id=other_rental.pk, customer=customer
        )
    ]
    client.force_login(no_staff_clerk)
    response = pay(client, customer, "2.00")
    assert form_errors(response)["__all__"] == [services.STAFF_NOT_LINKED]
    assert not Payment.objects.exists()


# Customers and logins ----------------------------------------------------------------------------


def test_a_clerk_adds_a_customer_at_their_store(client, clerk, store):
    client.force_login(clerk)
    add = client.get(url("customer", "add"))
    assert add.context["adminform"].form.initial["store"] == store.pk
    address = AddressFactory()
    response = client.post(
        url("customer", "add"),
        {
            "store": store.pk,
            "first_name": "LINDA",
            "last_name": "WILLIAMS",
            "email": "linda@example.com",
            "address": address.pk,
            "active": "on",
            "create_date_0": "2024-01-02",
            "create_date_1": "09:00:00",
        },
    )
    assert response.status_code == 302
    customer = store.customers.get(last_name="WILLIAMS")
    page = client.get(url("customer", "change", customer.pk)).content.decode()
    assert "nothing owed" in page
    assert f"?customer__customer_id__exact={customer.pk}" in page


def test_an_admin_links_a_login_to_a_staff_row(client, admin_role_user, no_staff_clerk, store):
    staff = StaffFactory(store=store)
    client.force_login(admin_role_user)
    user_url = reverse("admin:auth_user_change", args=[no_staff_clerk.pk])
    page = client.get(user_url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name not in ("password", "groups", "user_permissions", "last_login", "date_joined")
        and value is not None
    }
    data.update(
        {
            "is_active": "on",
            "is_staff": "on",
            "groups": [group.pk for group in no_staff_clerk.groups.all()],
            "date_joined_0": f"{no_staff_clerk.date_joined:%Y-%m-%d}",
            "date_joined_1": f"{no_staff_clerk.date_joined:%H:%M:%S}",
            "staff_profile-TOTAL_FORMS": "1",
            "staff_profile-INITIAL_FORMS": "0",
            "staff_profile-MIN_NUM_FORMS": "0",
            "staff_profile-MAX_NUM_FORMS": "1",
            "staff_profile-0-staff": staff.pk,
        }
    )
    response = client.post(user_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert StaffProfile.objects.get(user=no_staff_clerk).staff == staff
    users = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert str(staff) in users


# Queries do not grow with the rows shown ---------------------------------------------------------


def make_rentals(count: int, store) -> list[Rental]:
    """``count`` rentals, each of its own customer, film and copy, with a payment."""
    rentals = []
    for _ in range(count):
        customer = CustomerFactory(store=store)
        copy = InventoryFactory(film=FilmFactory(language=LanguageFactory()), store=store)
        rental = RentalFactory(inventory=copy, customer=customer, staff=store.manager_staff)
        PaymentFactory(customer=customer, staff=store.manager_staff, rental=rental)
        rentals.append(rental)
    return rentals


# Session, user, the count, the page, the choices of a filter: the same for any page size.
# (A list of more than one page loads its keys first: one more, see KeysFirstPaginator.)
LIST_QUERIES = {"rental": 5, "payment": 5, "customer": 5}


def list_params(model: str, kind: str, store) -> dict[str, object]:
    if kind == "search":
        return {"q": "customer"}  # matches every row's customer (CustomerFactory's names)
    if kind == "filter":
        return {
            "rental": {"status": "out"},
            "payment": {"staff__staff_id__exact": store.manager_staff_id},
            "customer": {"store__store_id__exact": store.pk},
        }[model]
    return {}


@pytest.mark.parametrize("rows", [5, 60])
@pytest.mark.parametrize("model", ["rental", "payment", "customer"])
@pytest.mark.parametrize("kind", ["all", "search", "filter"])
def test_the_big_lists_use_a_bounded_number_of_queries(
    admin_client, store, django_assert_max_num_queries, rows, model, kind
):
    make_rentals(rows, store)
    with django_assert_max_num_queries(LIST_QUERIES[model]):
        response = admin_client.get(url(model, "changelist"), list_params(model, kind, store))
    assert len(response.context["cl"].result_list) == rows
    assert response.content.decode().count('class="action-select"') == rows


@pytest.mark.parametrize("model", ["rental", "payment"])
def test_a_long_list_pages_through_every_row_in_order(
    admin_client, store, monkeypatch, django_assert_max_num_queries, model
):
    make_rentals(5, store)
    model_admin = {"rental": rentals_admin.RentalAdmin, "payment": PaymentAdmin}
    monkeypatch.setattr(model_admin[model], "list_per_page", 2)
    pages = []
    for page in (1, 2, 3):
        with django_assert_max_num_queries(LIST_QUERIES[model] + 1):
            response = admin_client.get(url(model, "changelist"), {"p": page})
        pages.append([obj.pk for obj in response.context["cl"].result_list])
    assert [len(rows) for rows in pages] == [2, 2, 1]
    seen = [pk for rows in pages for pk in rows]
    assert seen == list(response.context["cl"].queryset.values_list("pk", flat=True))
    if model == "rental":
        dates = [Rental.objects.get(pk=pk).rental_date for pk in seen]
        assert dates == sorted(dates, reverse=True), "newest first"
        # Oldest first (a click on the date column) walks the same index forwards.
        oldest_first = admin_client.get(url(model, "changelist"), {"o": "2"}).context["cl"]
        assert oldest_first.queryset.query.order_by == (
            "rental_date",
            "inventory_id",
            "customer_id",
        )
        assert [r.pk for r in oldest_first.result_list] == seen[::-1][:2]
        by_id = admin_client.get(url(model, "changelist"), {"o": "-1"}).context["cl"]
        assert by_id.queryset.query.order_by == ("-rental_id",)


def test_the_film_list_uses_a_bounded_number_of_queries(admin_client, store):
    def queries_for_films(count: int) -> int:
        make_rentals(count, store)
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url("film", "changelist")).status_code == 200
        return len(queries)

    assert queries_for_films(3) == queries_for_films(30)


# Permissions by role -----------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_login(client):
    for model in ("rental", "film"):
        response = client.get(url(model, "changelist"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_a_clerk_views_the_catalogue_but_does_not_change_it(client, clerk, film):
    client.force_login(clerk)
    assert client.get(url("film", "changelist")).status_code == 200
    page = client.get(url("film", "change", film.pk))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(url("film", "change", film.pk), {"title": "X"}).status_code == 403
    assert client.get(url("film", "add")).status_code == 403
    assert client.post(url("film", "delete", film.pk), {"post": "yes"}).status_code == 403
    assert Film.objects.get(pk=film.pk).title == "ACADEMY DINOSAUR"
    # What a clerk writes.
    for model in ("rental", "payment", "customer"):
        assert client.get(url(model, "add")).status_code == 200
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_a_manager_edits_and_deletes_films(client, manager):
    film = FilmFactory(title="LEFT ALONE")
    client.force_login(manager)
    assert client.get(url("film", "add")).status_code == 200
    assert 'name="_save"' in client.get(url("film", "change", film.pk)).content.decode()
    response = client.post(url("film", "delete", film.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Film.objects.filter(pk=film.pk).exists()
    assert not FilmText.objects.filter(pk=film.pk).exists()


# On MySQL with Sakila's triggers -----------------------------------------------------------------


@only_on_mysql
@pytest.mark.django_db(transaction=True)
def test_the_admin_shows_the_rental_date_the_database_stored(client, clerk, film, customer):
    from tests.rentals.test_triggers import TRIGGERS

    with connection.cursor() as cursor:
        for name, body in TRIGGERS.items():
            cursor.execute(f"CREATE TRIGGER {name} {body}")
    try:
        client.force_login(clerk)
        response = rent(client, customer, film, datetime(2025, 3, 4, 10, 15))
    finally:
        with connection.cursor() as cursor:
            for name in TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
    rental = Rental.objects.get()
    assert rental.rental_date != datetime(2025, 3, 4, 10, 15)
    [message] = message_texts(response)
    assert f"on {rental.rental_date:%Y-%m-%d %H:%M:%S}" in message
    assert "2025-03-04" not in message
    assert "The database stored its own time" in message

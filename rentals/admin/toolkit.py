"""What the ModelAdmins share: the logged-in staff row, money and links in
list columns, id and customer searches that use an index, a paginator for big
tables, and an autocomplete widget that survives a hand-made request.

``KeysFirstPaginator`` overrides Django's private ``Paginator._get_page``,
which ``Paginator.page`` calls as ``_get_page(object_list[bottom:top],
number, self)`` to make the page: the override assumes that call, the page's
slice as a queryset, and the base ``_get_page`` building the ``Page``.
tests/rentals/test_admin_overrides.py fails when Django is not the version
written for below, or the name is gone.
"""

from decimal import Decimal

from django.contrib.admin import widgets
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from rentals import formatting, selectors
from rentals.models import Customer, Staff

# The version of each library whose private code this module overrides, as locked
# in requirements.txt (see tests/overrides.py).
OVERRIDES_WRITTEN_FOR = {"django": "5.2.19"}


def request_staff(request: HttpRequest) -> Staff | None:
    """The logged-in user's staff row, looked up once per request."""
    if not hasattr(request, "_sakila_staff"):
        request._sakila_staff = selectors.staff_for_user(request.user)
    return request._sakila_staff


def money(amount: Decimal | None) -> str:
    # SQLite's SUM of decimals comes back with float noise (4.99000000000000).
    return formatting.money(Decimal(amount or 0))


def admin_link(obj, label: object = None) -> str:
    """A link to ``obj``'s admin page (no query: uses only its pk)."""
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj if label is None else label)


def customers_matching(term: str) -> QuerySet[Customer]:
    """Customers whose email starts with ``term``, or whose first or last name
    starts with each of its words: a subquery for searching big tables by customer."""
    if "@" in term:
        return Customer.objects.filter(email__istartswith=term).values("pk")
    matches = Q()
    for word in term.split():
        matches &= Q(first_name__istartswith=word) | Q(last_name__istartswith=word)
    return Customer.objects.filter(matches).values("pk")


def parse_id(term: str) -> int | None:
    """``term`` as an id if it is one (digits that fit an INT column)."""
    term = term.strip()
    if term.isdigit() and len(term) <= 10 and int(term) <= 2**31 - 1:
        return int(term)
    return None


# Dates in list columns: one line, sortable by eye ("2005-05-24 22:53").
SHORT_DATETIME = "%Y-%m-%d %H:%M"


class KeysFirstPaginator(Paginator):
    """Loads a page of a big table in two steps: the page's primary keys by an
    index scan of the table alone, then those rows with their joins.

    With OFFSET alone the database joins every row it skips: the last page of
    1.6 million rentals took 5 s on SQLite, and takes 0.13 s this way.
    """

    def _get_page(self, object_list, number, paginator):
        keys = list(object_list.values_list("pk", flat=True))
        return super()._get_page(self.object_list.filter(pk__in=keys), number, paginator)


class IdSearchMixin:
    """A search made of digits finds the row with that id, by its primary key;
    other text goes through ``search_fields``. (Django's ``=id`` search would
    compare the id as text, row by row.)"""

    def get_search_results(self, request, queryset, search_term):
        pk = parse_id(search_term)
        if pk is not None:
            return queryset.filter(pk=pk), False
        return super().get_search_results(request, queryset, search_term)


class AutocompleteSelect(widgets.AutocompleteSelect):
    """Django's, without its 500 when a posted value is not an id at all (only a
    hand-made request sends one): such a value is dropped when the form is shown
    again with its error."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [v for v in value if self._is_id(v)], attr)

    def _is_id(self, value) -> bool:
        try:
            self.field.target_field.to_python(value)
        except ValidationError:
            return False
        return True


class SafeAutocompleteMixin:
    """Uses the AutocompleteSelect above for ``autocomplete_fields``."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = AutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

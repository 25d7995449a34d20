"""The Django admin for staff: every Sakila table, and rentals and payments
through the same services as the desk and the API.

Rentals and payments are never saved by the admin itself: their add forms call
``services.rental_create`` / ``services.payment_create`` with the logged-in
user's staff row, and existing rows are read-only. The rental, payment and
inventory lists are built for millions of rows: a fixed number of queries per
page, indexed ordering, and searches that look ids up by index.

The ModelAdmins are registered by their modules, by what they administer:
``rentals``, ``payments``, ``catalog`` (films, actors, categories, languages,
copies) and ``people`` (customers, staff, stores, addresses, logins). They
share ``toolkit``, ``service_forms`` (adding through a service) and
``formsets`` (inline rows with a composite key).
"""

from rentals.admin import catalog, payments, people, rentals  # noqa: F401  (registers them)

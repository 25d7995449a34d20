"""The rental desk under /desk/."""

from django.urls import path

from rentals import views
from sakila_site import converters  # noqa: F401  (registers <id:...>)

app_name = "desk"
urlpatterns = [
    path("", views.desk_index, name="index"),
    path("rent/", views.rent, name="rent"),
    path("return/", views.return_rental, name="return"),
    path("rentals/<id:rental_id>/", views.rental_detail, name="rental"),
    path("customers/", views.customer_search, name="customer-search"),
    path("customers/<id:customer_id>/", views.customer_detail, name="customer"),
    path("customers/<id:customer_id>/pay/", views.customer_pay, name="customer-pay"),
    path("films/", views.film_options, name="film-options"),
]

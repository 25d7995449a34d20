"""The rental API under /api/ (the token, schema and docs are in sakila_site/urls.py)."""

from rest_framework.routers import DefaultRouter

from rentals.api import views

router = DefaultRouter(trailing_slash=True)
router.register("films", views.FilmViewSet, basename="api-film")
router.register("customers", views.CustomerViewSet, basename="api-customer")
router.register("stores", views.StoreViewSet, basename="api-store")
router.register("inventory", views.InventoryViewSet, basename="api-inventory")
router.register("rentals", views.RentalViewSet, basename="api-rental")
router.register("payments", views.PaymentViewSet, basename="api-payment")

urlpatterns = router.urls

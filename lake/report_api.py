"""The reports API under /api/reports/ (placeholder until it lands)."""

urlpatterns: list = []

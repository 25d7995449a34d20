"""The lake's REST API under /api/lake/ (placeholder until it lands)."""

urlpatterns: list = []

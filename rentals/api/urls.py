"""The rental API under /api/ (placeholder until the API lands)."""

urlpatterns: list = []

"""The lake control panel under /lake/ (placeholder until the panel lands)."""

app_name = "lake"
urlpatterns: list = []

"""The rental desk under /desk/ (placeholder until the desk lands)."""

app_name = "desk"
urlpatterns: list = []

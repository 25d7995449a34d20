"""Report pages under /reports/ (placeholder until they land)."""

app_name = "reports"
urlpatterns: list = []

"""Report pages under /reports/."""

from django.urls import path

from lake import report_views

app_name = "reports"
urlpatterns = [
    path("", report_views.dashboard, name="dashboard"),
    path("<slug:name>/", report_views.report_detail, name="report"),
    path("<slug:name>/csv/", report_views.report_csv, name="csv"),
]

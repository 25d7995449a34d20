"""Report pages under /reports/."""

from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("customers/<int:customer_id>/", views.customer_detail, name="customer"),
    path("<slug:name>/", views.report_detail, name="report"),
    path("<slug:name>/csv/", views.report_csv, name="csv"),
]

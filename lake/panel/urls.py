"""The lake control panel under /lake/."""

from django.urls import path, re_path

from lake.panel import views
from sakila_site import converters  # noqa: F401  (registers <id:...>)

app_name = "lake"
urlpatterns = [
    path("", views.run_list, name="runs"),
    path("runs/trigger/", views.run_trigger, name="trigger"),
    path("runs/<id:run_id>/", views.run_detail, name="run"),
    path("runs/<id:run_id>/live/", views.run_live, name="run-live"),
    path("runs/<id:run_id>/cancel/", views.run_cancel, name="run-cancel"),
    path("runs/<id:run_id>/retry/", views.run_retry, name="run-retry"),
    path("runs/<id:run_id>/resume/", views.run_resume, name="run-resume"),
    path("runs/<id:run_id>/publish/", views.run_publish_anyway, name="run-publish"),
    path("freshness/", views.freshness, name="freshness"),
    path("alerts/", views.alert_list, name="alerts"),
    path("schedules/", views.schedule_list, name="schedules"),
    path("schedules/<id:task_id>/toggle/", views.schedule_toggle, name="schedule-toggle"),
    path("audit/", views.audit, name="audit"),
    path("catalog/", views.catalog, name="catalog"),
    re_path(
        r"^catalog/(?P<zone>staging|marts|raw)/(?P<name>[A-Za-z0-9_]{1,64})/$",
        views.catalog_table,
        name="catalog-table",
    ),
]

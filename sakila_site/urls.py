from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from reports import console_views
from sakila_site import me, renderers, security, views

# The admin's lists get the whole width (the rentals list at 1366 px); the
# home page and each app's index still list every table.
admin.site.enable_nav_sidebar = False

API = [
    path("auth/token/", security.TokenObtainApi.as_view(), name="api-token"),
    path("me/", me.MeApi.as_view(), name="api-me"),
    path("lake/", include("lake.panel.api")),
    path("reports/", include("reports.api")),
    path("", include("rentals.api.urls")),
]

handler404 = "sakila_site.problems.page_not_found"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/start/", views.landing, name="landing"),
    path("desk/", include("rentals.urls")),
    # The SQL console's page is the reports' (reports/console_views.py), at home in the panel.
    path("lake/sql/", console_views.sql_console, name="sql-console"),
    path("lake/", include("lake.panel.urls")),
    path("reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # A person opening the docs logs in first (the split view serves its
    # script as a file: no inline script, as the Content-Security-Policy asks).
    path(
        "api/docs/",
        csp_update(renderers.INLINE_STYLES)(
            login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema"))
        ),
        name="api-docs",
    ),
    # The API, version 1; /api/ answers the same for the clients written before it
    # had a version (the schema documents /api/v1/ only; links name /api/v1/).
    path("api/", include(API)),
    path("api/v1/", include(API)),
]

"""Throttled logins and the Content-Security-Policy's two exceptions.

django-axes counts failed logins per username and per address (settings:
``AXES_*``). The login page and the admin's go through Django's
``authenticate`` and are refused by axes' backend; ``POST /api/auth/token/``
asks axes first, so a locked-out client gets a 429 with the reason rather
than DRF's "Unable to log in".
"""

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

LOCKED_OUT = (
    "Too many failed logins for this account or from this address: "
    "logins are refused for {minutes} minutes."
)


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """The site's page for a locked-out login (AXES_LOCKOUT_CALLABLE), status 429."""
    response = render(
        request,
        "registration/locked_out.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": lockout_minutes()},
        status=status.HTTP_429_TOO_MANY_REQUESTS,
    )
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


class TokenObtainApi(ObtainAuthToken):
    """``POST /api/auth/token/``: DRF's token view, refused while axes locks the login out."""

    @extend_schema(
        responses={
            200: OpenApiResponse(description='The token: {"token": "..."}'),
            400: OpenApiResponse(description="Wrong username or password."),
            429: OpenApiResponse(description="Too many failed logins: wait, then try again."),
        }
    )
    def post(self, request, *args, **kwargs):
        data = request.data if hasattr(request.data, "get") else {}  # a JSON list: a 400 below
        username = data.get("username")
        credentials = {"username": username if isinstance(username, str) else None}
        if not AxesProxyHandler.is_allowed(request, credentials):
            return Response(
                {"detail": LOCKED_OUT.format(minutes=lockout_minutes())},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(int(settings.AXES_COOLOFF_TIME.total_seconds()))},
            )
        return super().post(request, *args, **kwargs)

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
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import APIException
from rest_framework.parsers import JSONParser

from sakila_site.problems import ProblemSerializer

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


class LockedOut(APIException):
    """429 with Retry-After (the handler reads ``wait``), in the API's problem format."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self, detail: str, *, wait: float) -> None:
        super().__init__(detail)
        self.wait = wait


class TokenObtainApi(ObtainAuthToken):
    """``POST /api/auth/token/``: DRF's token view, refused while axes locks the login out.

    A JSON body only, as everywhere in the API (DRF's view also takes forms), and
    no login asked: generated clients call it without one.
    """

    parser_classes = [JSONParser]
    authentication_classes = []

    @extend_schema(
        summary="A token for a username and password",
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
            429: OpenApiResponse(
                ProblemSerializer, description="Too many failed logins: wait, then try again."
            ),
        },
    )
    def post(self, request, *args, **kwargs):
        data = request.data if hasattr(request.data, "get") else {}  # a JSON list: a 400 below
        username = data.get("username")
        credentials = {"username": username if isinstance(username, str) else None}
        if not AxesProxyHandler.is_allowed(request, credentials):
            raise LockedOut(
                LOCKED_OUT.format(minutes=lockout_minutes()),
                wait=settings.AXES_COOLOFF_TIME.total_seconds(),
            )
        return super().post(request, *args, **kwargs)

"""``Idempotency-Key`` on the API's POSTs that move money, stock or the lake.

A client that sends a key may send the same request again (after a timeout,
say) and gets the first answer back, with ``Idempotent-Replayed: true``,
without a second write. The key is stored in the transaction of the
request's writes: a twin sent at the same time waits on the key's unique
index until the first commits, then replays it; if the first failed, nothing
was kept and the twin runs as new. Only successful answers are kept (an error
wrote nothing: sending again runs again). The same key with another request
(operation, path or body) is refused with a 422. Keys are kept
IDEMPOTENCY_KEY_HOURS (24) per user.
"""

import hashlib
import json
import string
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from sakila_site.models import IdempotentRequest
from sakila_site.problems import ProblemSerializer, UnprocessableContent

HEADER = "Idempotency-Key"
KEY_CHARACTERS = set(string.printable) - set(string.whitespace) | {" "}
KEY_REUSED = (
    "This Idempotency-Key was sent with another request ({first}); use a new key for a new request."
)

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (a UUID) of up to 255 characters. Sending the request again with "
        "the same key replays the first successful answer (header Idempotent-Replayed: true) "
        "instead of writing twice; the same key with another body is a 422. Kept 24 hours."
    ),
)
KEY_REUSED_RESPONSE = OpenApiResponse(
    ProblemSerializer, description="The Idempotency-Key was used for another request."
)


class _NotKept(Exception):
    """Leaves the transaction with an answer that is not kept (not a success)."""

    def __init__(self, response: Response) -> None:
        self.response = response


def idempotent(view: Callable[..., Response]) -> Callable[..., Response]:
    """Makes a viewset's POST handler honour ``Idempotency-Key`` (see the module)."""

    @wraps(view)
    def handler(self, request: Request, *args, **kwargs) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return view(self, request, *args, **kwargs)
        key_check(key)
        fingerprint = request_fingerprint(request, kwargs)
        ttl = timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
        IdempotentRequest.objects.filter(created_at__lt=timezone.now() - ttl).delete()
        while True:
            try:
                return _run_once(view, self, request, key, fingerprint, args, kwargs)
            except _KeyTaken:
                # The insert waited for a twin, which committed: its answer is ours.
                stored = IdempotentRequest.objects.filter(user=request.user, key=key).first()
                if stored is not None:  # else purged since: run as new
                    return replay(stored, fingerprint)

    return handler


class _KeyTaken(Exception):
    """The key is stored already (by an earlier request or a twin just now)."""


def _run_once(view, viewset, request: Request, key: str, fingerprint: str, args, kwargs):
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():  # the insert alone, to tell its failure apart
                    record = IdempotentRequest.objects.create(
                        user=request.user,
                        key=key,
                        fingerprint=fingerprint,
                        status_code=0,
                        body={},
                    )
            except IntegrityError:
                raise _KeyTaken from None
            response = view(viewset, request, *args, **kwargs)
            if not 200 <= response.status_code < 300:
                raise _NotKept(response)
            record.status_code = response.status_code
            record.body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
            record.location = response.get("Location", "")
            record.save(update_fields=["status_code", "body", "location"])
            return response
    except _NotKept as not_kept:
        return not_kept.response


def replay(stored: IdempotentRequest, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        raise UnprocessableContent(
            KEY_REUSED.format(first=stored.created_at.isoformat(timespec="seconds")),
            code="idempotency_key_reused",
        )
    headers = {"Idempotent-Replayed": "true"}
    if stored.location:
        headers["Location"] = stored.location
    return Response(stored.body, status=stored.status_code, headers=headers)


def key_check(key: str) -> None:
    if not 1 <= len(key) <= 255 or not set(key) <= KEY_CHARACTERS:
        raise ValidationError(
            {HEADER: ["Send 1 to 255 printable ASCII characters (a UUID, say)."]},
            code="invalid",
        )


def request_fingerprint(request: Request, path_arguments: dict) -> str:
    """The operation (by URL name, so /api/ and /api/v1/ agree), its path
    arguments and its body, hashed."""
    operation = [request.method, request.resolver_match.view_name, path_arguments, request.data]
    text = json.dumps(operation, sort_keys=True, cls=DjangoJSONEncoder)
    return hashlib.sha256(text.encode()).hexdigest()

"""What the site keeps for the API itself, across its apps."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotentRequest(models.Model):
    """A POST sent with an ``Idempotency-Key``, and its answer to replay to a retry.

    Written in the transaction of the request's own writes, so that the key
    and the payment (say) are stored together or not at all; the unique key
    makes a concurrent twin wait, then replay (``sakila_site.idempotency``).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the operation, its path arguments and its body."
    )
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotent_request_user_key")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.key}"

from django.apps import AppConfig
from django.db.models.signals import post_save


class LakeConfig(AppConfig):
    name = "lake"
    verbose_name = "Data lake"

    def ready(self) -> None:
        # The services send the Celery tasks by name: register them in every process.
        from lake import receivers, tasks  # noqa: F401
        from rentals.models import Payment, Rental

        for model in (Rental, Payment):
            post_save.connect(
                receivers.rental_or_payment_saved, sender=model, dispatch_uid=f"lake-{model}"
            )

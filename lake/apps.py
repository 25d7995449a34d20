from django.apps import AppConfig
from django.db.models.signals import post_save


class LakeConfig(AppConfig):
    name = "lake"
    verbose_name = "Data lake"

    def ready(self) -> None:
        from lake import receivers
        from rentals.models import Payment, Rental

        for model in (Rental, Payment):
            post_save.connect(
                receivers.rental_or_payment_saved, sender=model, dispatch_uid=f"lake-{model}"
            )

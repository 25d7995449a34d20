"""Signal receivers: a committed rental or payment asks the lake for a refresh."""

from lake import services


def rental_or_payment_saved(sender, **kwargs) -> None:
    services.lake_refresh_on_commit()

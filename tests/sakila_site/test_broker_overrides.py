"""The embedded broker's overrides of kombu's private code still match the
installed kombu (see tests/overrides.py and sakila_site/broker.py's docstring)."""

from kombu.transport import sqlalchemy as kombu_sqla

from sakila_site import broker
from tests.overrides import assert_override_current


def test_the_broker_channel_matches_the_installed_kombu():
    assert_override_current(
        broker,
        "kombu",
        {
            kombu_sqla.Channel: {
                "_engine_from_config": ("self",),
                "_open": ("self",),
                "_get_or_create": ("self", "queue"),
                "_get": ("self", "queue"),
                "_restore": ("self", "message"),
            }
        },
    )

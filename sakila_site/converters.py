"""URL converters shared by the site's URLconfs."""

from django.urls import register_converter

# Sakila ids are INT columns: a longer number names nothing (and would overflow SQLite).
MAX_ID = 2**31 - 1


class IdConverter:
    """A database id: 1 to 10 digits, at most MAX_ID, else the URL does not match (404)."""

    regex = "[0-9]{1,10}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(value)
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

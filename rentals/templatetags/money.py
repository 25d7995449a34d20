"""``{% load money %}``: ``{{ amount|money }}`` ("$1,234.50") and
``{{ balance|balance }}`` ("$12.00 owed", "$5.00 in credit", "nothing owed")."""

from django import template

from rentals import formatting

register = template.Library()
register.filter("money", formatting.money)
register.filter("balance", formatting.balance)

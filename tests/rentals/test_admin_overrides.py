"""The admin's overrides of Django's private code still match the installed
Django (see tests/overrides.py and each module's docstring)."""

from django.core.paginator import Paginator
from django.forms import BaseInlineFormSet

from rentals.admin import formsets, toolkit
from tests.overrides import assert_override_current


def test_the_keys_first_paginator_matches_the_installed_django():
    assert_override_current(
        toolkit, "django", {Paginator: {"_get_page": ("self", "*args", "**kwargs")}}
    )


def test_the_composite_key_formset_matches_the_installed_django():
    assert_override_current(
        formsets,
        "django",
        {
            BaseInlineFormSet: {
                "_get_to_python": ("self", "field"),
                "_construct_form": ("self", "i", "**kwargs"),
                "_existing_object": ("self", "pk"),
                "_should_delete_form": ("self", "form"),
            }
        },
    )

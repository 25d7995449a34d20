"""The inline rows of film_actor and film_category, whose primary key is composite.

``CompositeKeyInlineFormSet`` overrides Django's private
``BaseModelFormSet._get_to_python`` and relies on how the model formset
uses it: ``_construct_form(i)`` reads a posted row's key with
``_get_to_python(pk field)(value)``, treats a ``ValidationError`` as no row,
and finds the row with ``_existing_object(key)``, a dict keyed by each row's
``pk`` (a tuple here); ``clean()`` calls ``_should_delete_form(form)``.
tests/rentals/test_admin_overrides.py fails when Django is not the version
written for below, or one of these names is gone or takes other parameters.
"""

import json

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import cached_property

# The version of each library whose private code this module overrides, as locked
# in requirements.txt (see tests/overrides.py).
OVERRIDES_WRITTEN_FOR = {"django": "5.2.19"}

ROW_GONE = "This row was changed or removed meanwhile: reload the page and try again."


class CompositeKeyField(forms.Field):
    """The hidden key of an inline row whose primary key is composite, written
    as the JSON list ``CompositePrimaryKey.to_python`` reads, cleaned to the
    tuple the row's ``pk`` is, and only one of ``keys`` (the formset's rows)."""

    widget = forms.HiddenInput
    default_error_messages = {"invalid": ROW_GONE}

    def __init__(self, *, model_field, keys: set[tuple], **kwargs) -> None:
        self.model_field = model_field
        self.keys = keys
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, (tuple, list)):
            return json.dumps(list(value))
        return value

    def to_python(self, value) -> tuple | None:
        if value in self.empty_values:
            return None
        try:
            key = tuple(self.model_field.to_python(value))
        except (ValueError, TypeError, ValidationError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if key not in self.keys:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return key


class CompositeKeyInlineFormSet(forms.BaseInlineFormSet):
    """Inline rows of film_actor and film_category, whose primary key is composite.

    Django 5.2's model formsets render such a key in the hidden field of each
    row as the text of a tuple, "(1, 14)", and cannot read it back
    (``CompositePrimaryKey.to_python`` expects JSON): saving a film with
    actors was a 500. Here the key goes out as JSON and comes back as the tuple
    that names the row; an unreadable or unknown key is the row's error.
    """

    @cached_property
    def _row_keys(self) -> set[tuple]:
        return {row.pk for row in self.get_queryset()}

    def _key_field(self, **kwargs) -> CompositeKeyField:
        return CompositeKeyField(model_field=self.model._meta.pk, keys=self._row_keys, **kwargs)

    def _get_to_python(self, field):
        # How _construct_form reads a posted key to find its row: the same
        # reading as the hidden field, so a bad key finds no row instead of a 500.
        return self._key_field().to_python

    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        pk_name = self.model._meta.pk.name
        form.fields[pk_name] = self._key_field(initial=form.fields[pk_name].initial, required=False)

    def clean(self) -> None:
        super().clean()
        # The admin's tabular rows do not show a hidden field's error.
        pk_name = self.model._meta.pk.name
        if any(pk_name in form.errors for form in self.forms):
            raise ValidationError(ROW_GONE)
        # Django's unique check of the rows skips a composite key, and saving
        # an actor listed twice would quietly keep one: say so instead.
        names = [f.name for f in self.model._meta.pk.fields if f != self.fk]
        seen = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or self._should_delete_form(form):
                continue
            value = tuple(form.cleaned_data.get(name) for name in names)
            if None in value:
                continue
            if value in seen:
                raise ValidationError(self.get_unique_error_message(names))
            seen.add(value)

    def save_existing(self, form, obj, commit=True):
        # The key is the row: a row given another actor (or category) is
        # another row. Saving would insert it and keep the old one, so the
        # old one goes first.
        old_key = form.cleaned_data.get(self.model._meta.pk.name)
        if commit and old_key is not None and obj.pk != old_key:
            self.model._default_manager.filter(pk=old_key).delete()
        return super().save_existing(form, obj, commit=commit)

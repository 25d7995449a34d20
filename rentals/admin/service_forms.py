"""Adding rentals and payments through the services: the add form whose
``clean()`` calls a service, and the ModelAdmin that uses it and shows
stored rows read-only."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from rentals import services
from rentals.admin.toolkit import request_staff
from rentals.forms import add_service_error
from rentals.models import Staff


class ServiceAddForm(forms.ModelForm):
    """An add form whose ``clean()`` saves through a service.

    That way a refusal of the service lands on the form. ``clean()`` runs
    inside the transaction of the admin's add view, and the service's own
    ``transaction.atomic`` is a savepoint in it: a refusal writes nothing.
    The admin then logs the addition and shows the row the service read back;
    its ``save_model`` must not save again.
    """

    staff: Staff | None = None  # the logged-in user's, set by the ModelAdmin's get_form

    def clean(self):
        cleaned_data = super().clean()
        if self.staff is None:
            raise ValidationError(services.STAFF_NOT_LINKED, code="no_staff")
        if not self.errors:
            try:
                self.instance = self.save_through_service(cleaned_data)
            except ValidationError as error:
                add_service_error(self, error)
        return cleaned_data

    def save_through_service(self, cleaned_data: dict):
        raise NotImplementedError


class ServiceAddAdmin(admin.ModelAdmin):
    """Adds rows through a ServiceAddForm; existing rows can be viewed, not changed."""

    add_form: type[ServiceAddForm]
    change_fields: tuple[str, ...] = ()

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            return type(self.add_form.__name__, (self.add_form,), {"staff": request_staff(request)})
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            return [(None, {"fields": self.change_fields})]
        staff = request_staff(request)
        if staff is None:
            description = services.STAFF_NOT_LINKED
        else:
            # The admin shows a description as HTML: escape the names.
            description = format_html("Recorded by {} at {}.", staff, staff.store)
        return [(None, {"fields": list(self.add_form.base_fields), "description": description})]

    def get_readonly_fields(self, request, obj=None):
        return self.change_fields if obj is not None else ()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # What was stored is read-only: "save and continue editing" would lead nowhere.
        extra_context = {**(extra_context or {}), "show_save_and_continue": False}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        """Nothing to save: the add form's service saved ``obj``. Say what was stored."""
        self.message_user(request, self.stored_message(obj, form.cleaned_data), messages.SUCCESS)

    def stored_message(self, obj, cleaned_data: dict) -> str:
        raise NotImplementedError

    def response_add(self, request, obj, post_url_continue=None) -> HttpResponse:
        # Our own success message is already queued (see save_model); skip Django's.
        if IS_POPUP_VAR in request.POST:
            return super().response_add(request, obj, post_url_continue)
        opts = self.opts
        if "_addanother" in request.POST:
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        if self.has_view_permission(request, obj):
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        else:
            url = reverse("admin:index")
        return HttpResponseRedirect(url)

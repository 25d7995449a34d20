"""Forms of the control panel, and the run filters it shares with the API.

Filters live in the URL (GET), so a filtered list can be bookmarked and
shared; a bad value is reported under its name and the list is not shown
filtered by it.
"""

from django import forms
from django_celery_beat.models import PeriodicTask
from django_filters import rest_framework as filters

from lake import selectors
from lake.models import AlertSubscription, PipelineRun, PipelineRunEvent

ERROR_DATE_RANGE = "The start date is after the end date."


class TriggerForm(forms.Form):
    MODES = [
        ("incremental", "Incremental: only what changed since the last run"),
        ("full", "Full: rebuild everything from the rental database"),
    ]
    mode = forms.ChoiceField(choices=MODES, initial="incremental", widget=forms.RadioSelect)

    @property
    def full(self) -> bool:
        return self.cleaned_data["mode"] == "full"


class PublishAnywayForm(forms.Form):
    reason = forms.CharField(
        label="Why publish it although its checks failed?",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded in the run's audit with your name.",
    )


class AlertSubscriptionForm(forms.ModelForm):
    class Meta:
        model = AlertSubscription
        fields = ["run_failed", "checks_failed", "stale", "no_worker"]


class DateInput(forms.DateInput):
    input_type = "date"


class RunFilterForm(forms.Form):
    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", ERROR_DATE_RANGE)
        return cleaned


class PipelineRunFilter(filters.FilterSet):
    """Runs by status, trigger and the day they were requested (a range, both ends included)."""

    status = filters.ChoiceFilter(
        choices=PipelineRun.Status.choices, method="filter_runs", empty_label="any status"
    )
    trigger = filters.ChoiceFilter(
        choices=PipelineRun.Trigger.choices, method="filter_runs", empty_label="any trigger"
    )
    date_from = filters.DateFilter(
        label="From", method="filter_runs", widget=DateInput, help_text="Requested on or after."
    )
    date_to = filters.DateFilter(
        label="To", method="filter_runs", widget=DateInput, help_text="Requested on or before."
    )

    class Meta:
        model = PipelineRun
        form = RunFilterForm
        fields = ["status", "trigger", "date_from", "date_to"]

    def filter_runs(self, queryset, name: str, value):
        return selectors.pipeline_run_filter(queryset, **{name: value})


class EventFilterForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("", "any action"), *PipelineRunEvent.Action.choices], required=False
    )
    user = forms.ModelChoiceField(
        queryset=selectors.pipeline_run_event_users(),
        to_field_name="username",
        required=False,
        empty_label="anyone",
    )


class ScheduleToggleForm(forms.ModelForm):
    """Turns one schedule on or off (the rest is edited in the admin)."""

    enabled = forms.TypedChoiceField(
        choices=[("true", "on"), ("false", "off")], coerce=lambda value: value == "true"
    )

    class Meta:
        model = PeriodicTask
        fields = ["enabled"]

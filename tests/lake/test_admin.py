import pytest
from django.urls import reverse

from lake.models import PipelineRun, PipelineStep

pytestmark = pytest.mark.django_db


def test_runs_are_shown_read_only_in_the_admin(admin_client):
    run = PipelineRun.objects.create(status="failed", error="boom")
    PipelineStep.objects.create(run=run, name="fact_sales", status="failed", error="boom")

    assert admin_client.get(reverse("admin:lake_pipelinerun_changelist")).status_code == 200
    detail = admin_client.get(reverse("admin:lake_pipelinerun_change", args=[run.pk]))
    assert detail.status_code == 200
    assert "fact_sales" in detail.content.decode()
    assert admin_client.get(reverse("admin:lake_pipelinerun_add")).status_code == 403
    delete = reverse("admin:lake_pipelinerun_delete", args=[run.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert PipelineRun.objects.filter(pk=run.pk).exists()

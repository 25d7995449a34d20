"""The Glue workflow and its triggers: start -> extract -> marts -> the crawler."""

from typing import Any

from django.conf import settings

from lake.aws import names
from lake.aws.clients import aws_client
from lake.aws.deploy.resource import Resource, managed_tags, read_or_none


class GlueWorkflow(Resource):
    kind = "Glue workflow"

    def __init__(self) -> None:
        super().__init__(names.workflow_name())

    def desired(self) -> dict[str, Any]:
        return {
            "Description": "Sakila lake: extract, then marts, then the raw-zone crawler",
            "MaxConcurrentRuns": 1,  # the app runs one pipeline run at a time
        }

    def read(self) -> dict[str, Any] | None:
        return read_or_none(lambda: aws_client("glue").get_workflow(Name=self.name)["Workflow"])

    def create(self) -> None:
        aws_client("glue").create_workflow(Name=self.name, Tags=managed_tags(), **self.desired())

    def update(self, current: dict[str, Any]) -> None:
        aws_client("glue").update_workflow(Name=self.name, **self.desired())

    def delete(self) -> None:
        aws_client("glue").delete_workflow(Name=self.name)


class GlueTrigger(Resource):
    """A step of the workflow: ON_DEMAND (the start) or CONDITIONAL (the
    previous job SUCCEEDED); a conditional trigger must be activated."""

    kind = "Glue trigger"
    immutable = ("Type", "WorkflowName")

    def __init__(self, name: str, action: dict[str, str], after_job: str | None) -> None:
        super().__init__(name)
        self.action = action
        self.after_job = after_job

    def desired(self) -> dict[str, Any]:
        target = self.action.get("JobName") or self.action.get("CrawlerName")
        trigger: dict[str, Any] = {
            "WorkflowName": names.workflow_name(),
            "Type": "CONDITIONAL" if self.after_job else "ON_DEMAND",
            "Description": f"Sakila lake: starts {target}",
            "Actions": [self.action],
        }
        if self.after_job:
            trigger["Predicate"] = {
                "Logical": "AND",
                "Conditions": [
                    {
                        "LogicalOperator": "EQUALS",
                        "JobName": names.job_name(self.after_job),
                        "State": "SUCCEEDED",
                    }
                ],
            }
            trigger["State"] = "ACTIVATED"
        return trigger

    def read(self) -> dict[str, Any] | None:
        trigger = read_or_none(lambda: aws_client("glue").get_trigger(Name=self.name)["Trigger"])
        if trigger is not None and trigger.get("State") == "ACTIVATING":
            trigger["State"] = "ACTIVATED"  # on its way
        return trigger

    def create(self) -> None:
        desired = self.desired()
        desired.pop("State", None)
        aws_client("glue").create_trigger(
            Name=self.name, StartOnCreation=bool(self.after_job), Tags=managed_tags(), **desired
        )

    def update(self, current: dict[str, Any]) -> None:
        desired = self.desired()
        update = {
            key: desired[key] for key in ("Description", "Actions", "Predicate") if key in desired
        }
        aws_client("glue").update_trigger(Name=self.name, TriggerUpdate=update)
        if self.after_job and current.get("State") != "ACTIVATED":
            aws_client("glue").start_trigger(Name=self.name)

    def delete(self) -> None:
        aws_client("glue").delete_trigger(Name=self.name)


def workflow_triggers() -> list[GlueTrigger]:
    """start -> first job; each job SUCCEEDED -> the next job, the last -> the crawler."""
    steps = [{"JobName": names.job_name(job)} for job in names.GLUE_JOBS]
    steps.append({"CrawlerName": names.crawler_name()})
    prefix = settings.GLUE_NAME_PREFIX
    triggers = [GlueTrigger(f"{prefix}-start", steps[0], after_job=None)]
    for job, action in zip(names.GLUE_JOBS, steps[1:], strict=True):
        triggers.append(GlueTrigger(f"{prefix}-after-{job}", action, after_job=job))
    return triggers

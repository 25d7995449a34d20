"""A Glue workflow run read into the run's steps, and the run properties the jobs set.

``GetWorkflowRun`` answers with the workflow's graph: one node per job,
crawler and trigger, each job node with its job runs and each crawler node
with its crawls. Every job and crawler node becomes a step of the pipeline
run (the extract job's rows per table become "extract <table>" and
"stage <table>" steps, as the local engine names them); the run properties
the jobs set (``lake.glue_jobs``) give their rows and the new watermarks.
"""

from datetime import datetime

from django.utils import timezone

from lake.aws.names import GLUE_JOBS, crawler_name, job_name
from lake.engines.job_runs import (
    ROWS_PROPERTIES,
    JobContractError,
    extract_breakdown,
    rows_property,
)
from lake.models import PipelineRun, PipelineStep

CRAWL_STEP = "crawl"
STEP_ORDER = (*GLUE_JOBS, CRAWL_STEP)

Status = PipelineStep.Status
JOB_RUN_STATES = {
    "STARTING": Status.RUNNING,
    "RUNNING": Status.RUNNING,
    "WAITING": Status.RUNNING,  # a Flex job waiting for capacity
    "STOPPING": Status.RUNNING,
    "SUCCEEDED": Status.SUCCEEDED,
    "FAILED": Status.FAILED,
    "TIMEOUT": Status.FAILED,
    "ERROR": Status.FAILED,
    "EXPIRED": Status.FAILED,
    "STOPPED": Status.SKIPPED,
}
CRAWL_STATES = {
    "RUNNING": Status.RUNNING,
    "CANCELLING": Status.RUNNING,
    "SUCCEEDED": Status.SUCCEEDED,
    "FAILED": Status.FAILED,
    "ERROR": Status.FAILED,
    "CANCELLED": Status.SKIPPED,
}

ERROR_STEP = "{step} failed on Glue ({state}): {message}"
# The states of a job run or crawl a resume starts again from (they had a run attempt,
# which ResumeWorkflowRun requires of its nodes).
RESUMABLE_JOB_STATES = frozenset({"FAILED", "TIMEOUT", "ERROR", "EXPIRED", "STOPPED"})
RESUMABLE_CRAWL_STATES = frozenset({"FAILED", "ERROR", "CANCELLED"})
RESUMED_STEP_LOG = "Succeeded in run {run_id}: not run again. {log}"


# --- Graph nodes to steps ---------------------------------------------------------------


def record_steps(run: PipelineRun, nodes: list[dict], properties: dict) -> list[PipelineStep]:
    """One step per job and crawler node (triggers are not steps), in workflow
    order; under the extract job, its rows per table as the local engine's steps.

    A node that has not run in this workflow run keeps a step recorded as
    succeeded: a resumed run does not run again what succeeded before it.
    """
    states = []
    for node in nodes:
        if node.get("Type") == "JOB":
            states.append(_job_state(node_step(node), node, properties))
        elif node.get("Type") == "CRAWLER":
            states.append(_crawl_state(node_step(node), node))
    states.sort(key=lambda state: step_order(state["name"]))
    succeeded = {step.name: step for step in run.steps.filter(status=Status.SUCCEEDED)}

    saved, position = [], 0
    for state in states:
        name = state.pop("name")
        if state["status"] == Status.PENDING and name in succeeded:
            step = succeeded[name]
        else:
            step, _ = PipelineStep.objects.update_or_create(
                run=run, name=name, defaults={**state, "position": position}
            )
        saved.append(step)
        position += 1
        if name == "extract" and step.status == Status.SUCCEEDED:
            for step_name, rows in extract_breakdown(properties):
                PipelineStep.objects.update_or_create(
                    run=run,
                    name=step_name,
                    defaults={
                        "position": position,
                        "status": Status.SUCCEEDED,
                        "started_at": step.started_at,
                        "finished_at": step.finished_at,
                        "rows": rows,
                    },
                )
                position += 1
    return saved


def copy_succeeded_steps(run: PipelineRun, resumed: PipelineRun, workflow_run: dict) -> None:
    """The steps of the nodes that succeeded in ``run``'s ended workflow run,
    recorded on ``resumed`` as succeeded; the others wait to run again."""
    nodes = workflow_run.get("Graph", {}).get("Nodes", [])
    steps = record_steps(resumed, nodes, workflow_run.get("WorkflowRunProperties", {}))
    resumed.steps.exclude(status=Status.SUCCEEDED).update(
        status=Status.PENDING, started_at=None, finished_at=None, rows=0, log="", error=""
    )
    for step in steps:
        if step.status == Status.SUCCEEDED:
            step.log = RESUMED_STEP_LOG.format(run_id=run.pk, log=step.log).strip()
            step.save(update_fields=["log"])


def not_succeeded(steps: list[PipelineStep]) -> list[str]:
    """The workflow's jobs and crawler (in order) that have no succeeded step."""
    succeeded = {step.name for step in steps if step.status == Status.SUCCEEDED}
    return [name for name in STEP_ORDER if name not in succeeded]


def node_step(node: dict) -> str:
    """The step a job or crawler node is: "extract", "marts", "crawl" (else its name)."""
    if node.get("Type") == "CRAWLER":
        return CRAWL_STEP if node["Name"] == crawler_name() else node["Name"]
    return {job_name(job): job for job in GLUE_JOBS}.get(node["Name"], node["Name"])


def needs_resume(node: dict) -> bool:
    """A job or crawler node whose latest attempt failed, timed out or was stopped."""
    if node.get("Type") == "JOB":
        job_run = _latest_job_run(node)
        return job_run is not None and job_run.get("JobRunState") in RESUMABLE_JOB_STATES
    if node.get("Type") == "CRAWLER":
        crawl = _latest_crawl(node)
        return crawl is not None and crawl.get("State") in RESUMABLE_CRAWL_STATES
    return False


def _latest_job_run(node: dict) -> dict | None:
    job_runs = node.get("JobDetails", {}).get("JobRuns", [])
    if not job_runs:
        return None
    return max(job_runs, key=lambda r: (r.get("Attempt", 0), _timestamp(r.get("StartedOn"))))


def _latest_crawl(node: dict) -> dict | None:
    crawls = node.get("CrawlerDetails", {}).get("Crawls", [])
    return max(crawls, key=lambda c: _timestamp(c.get("StartedOn"))) if crawls else None


def step_order(step: str) -> tuple[int, str]:
    return (STEP_ORDER.index(step) if step in STEP_ORDER else len(STEP_ORDER), step)


def _job_state(step: str, node: dict, properties: dict) -> dict:
    if (job_run := _latest_job_run(node)) is None:
        return _pending(step)
    state = job_run.get("JobRunState", "")
    status = JOB_RUN_STATES.get(state, Status.RUNNING)
    rows, log = 0, [f"Glue job {node['Name']}, run {job_run.get('Id', '?')} ({state})"]
    if job_run.get("Attempt"):
        log.append(f"attempt {job_run['Attempt'] + 1}")
    if job_run.get("ExecutionTime"):
        log.append(f"{job_run['ExecutionTime']} s of execution")
    if by_table := rows_property(properties, ROWS_PROPERTIES.get(step, ""), step):
        rows = sum(by_table.values())
        log.append(", ".join(f"{name}: {count}" for name, count in sorted(by_table.items())))
    return {
        "name": step,
        "status": status,
        "started_at": _local(job_run.get("StartedOn")),
        "finished_at": _local(job_run.get("CompletedOn")),
        "rows": rows,
        "log": "; ".join(log),
        "error": _step_error(step, state, job_run.get("ErrorMessage"), status),
    }


def _crawl_state(step: str, node: dict) -> dict:
    if (crawl := _latest_crawl(node)) is None:
        return _pending(step)
    state = crawl.get("State", "")
    status = CRAWL_STATES.get(state, Status.RUNNING)
    log = [f"Glue crawler {node['Name']} ({state})"]
    if crawl.get("LogGroup"):
        log.append(f"logs: {crawl['LogGroup']} {crawl.get('LogStream', '')}".strip())
    return {
        "name": step,
        "status": status,
        "started_at": _local(crawl.get("StartedOn")),
        "finished_at": _local(crawl.get("CompletedOn")),
        "rows": 0,
        "log": "; ".join(log),
        "error": _step_error(step, state, crawl.get("ErrorMessage"), status),
    }


def _pending(step: str) -> dict:
    return {
        "name": step,
        "status": Status.PENDING,
        "started_at": None,
        "finished_at": None,
        "rows": 0,
        "log": "",
        "error": "",
    }


def _step_error(step: str, state: str, message: str | None, status: str) -> str:
    if status != Status.FAILED:
        return ""
    return ERROR_STEP.format(step=step, state=state, message=message or "no error message")


def _timestamp(value: datetime | None) -> float:
    return value.timestamp() if value else 0.0


def _local(value: datetime | None) -> datetime | None:
    """An AWS time as the site stores times (naive, in TIME_ZONE)."""
    if value is None or timezone.is_naive(value):
        return value
    return timezone.make_naive(value)


GlueContractError = JobContractError  # the name the Glue engine knew it by

"""AWS calls ``lake deploy`` makes that moto 5.2.5 does not implement.

moto's server answers them with a 500 ("The update_job action has not been
implemented"). These fill the gaps on moto's own backends, inside the test
process that runs ThreadedMotoServer, with the semantics AWS documents for
each call (Glue API reference, Athena API reference), so that deploy's
requests still go through botocore and HTTP and what they change is read
back with the ordinary get calls:

- glue UpdateJob: JobUpdate replaces the definition (what it leaves out is
  reset), UpdateCrawler / UpdateTrigger: only the fields given change,
  UpdateConnection: ConnectionInput replaces the connection, DeleteConnection;
- glue Create/Get/Update/DeleteTableOptimizer: one optimizer per table and
  type, its configuration as given; EntityNotFoundException for a table
  that does not exist or an optimizer never created, AlreadyExistsException
  for a second create;
- athena UpdateWorkGroup: ConfigurationUpdates merged into the configuration;
- glue GetWorkflowRun: moto's runs have no Graph and no Statistics (it never
  runs a job): a run that a test ended the way AWS would
  (tests/lake/aws/test_walkthrough.py) answers with the ones it was given.

Other gaps are left as they are: moto's GetConnection leaves out
ConnectionType (deploy compares only the fields AWS's answer holds), and
moto never runs a job or a crawler, nor ends a workflow run (the
walkthrough ends it as AWS would: nodes, statistics, run properties).
"""

import json

import pytest
from moto.athena.responses import AthenaResponse
from moto.core.utils import utcnow
from moto.glue.exceptions import AlreadyExistsException, EntityNotFoundException
from moto.glue.models import FakeConnection, FakeWorkflowRun
from moto.glue.responses import GlueResponse
from moto.glue.utils import Action, Predicate


def update_job(self: GlueResponse) -> str:
    name = self._get_param("JobName")
    job = self.glue_backend.get_job(name)
    update = self._get_param("JobUpdate")
    job.description = update.get("Description")
    job.role = update.get("Role")
    job.command = update.get("Command")
    job.default_arguments = update.get("DefaultArguments") or {}
    job.non_overridable_arguments = update.get("NonOverridableArguments")
    job.connections = update.get("Connections")
    job.max_retries = update.get("MaxRetries")
    job.timeout = update.get("Timeout")
    job.glue_version = update.get("GlueVersion")
    job.worker_type = update.get("WorkerType")
    job.number_of_workers = update.get("NumberOfWorkers")
    job.execution_property = update.get("ExecutionProperty") or {}
    job.last_modified_on = utcnow()
    return json.dumps({"JobName": name})


CRAWLER_FIELDS = {
    "Role": "role",
    "DatabaseName": "database_name",
    "Description": "description",
    "Targets": "targets",
    "Schedule": "schedule",
    "Classifiers": "classifiers",
    "TablePrefix": "table_prefix",
    "SchemaChangePolicy": "schema_change_policy",
    "RecrawlPolicy": "recrawl_policy",
    "LineageConfiguration": "lineage_configuration",
    "Configuration": "configuration",
}


def update_crawler(self: GlueResponse) -> str:
    crawler = self.glue_backend.get_crawler(self._get_param("Name"))
    for parameter, attribute in CRAWLER_FIELDS.items():
        if parameter in self.parameters:
            setattr(crawler, attribute, self.parameters[parameter])
    crawler.version += 1
    crawler.last_updated = utcnow()
    return "{}"


def update_trigger(self: GlueResponse) -> str:
    trigger = self.glue_backend.get_trigger(self._get_param("Name"))
    update = self._get_param("TriggerUpdate")
    if "Description" in update:
        trigger.description = update["Description"]
    if "Schedule" in update:
        trigger.schedule = update["Schedule"]
    if "Actions" in update:
        trigger.actions = [Action(action) for action in update["Actions"]]
    if "Predicate" in update:
        trigger.predicate = Predicate(update["Predicate"])
    return json.dumps({"Trigger": trigger.as_dict()}, default=str)


def update_connection(self: GlueResponse) -> str:
    name = self._get_param("Name")
    backend = self.glue_backend
    if name not in backend.connections:
        raise EntityNotFoundException(f"Connection {name} not found")
    connection_input = self._get_param("ConnectionInput")
    backend.connections.pop(name)
    backend.connections[connection_input["Name"]] = FakeConnection(
        backend, backend.account_id, connection_input, tags={}
    )
    return "{}"


def delete_connection(self: GlueResponse) -> str:
    name = self._get_param("ConnectionName")
    if self.glue_backend.connections.pop(name, None) is None:
        raise EntityNotFoundException(f"Connection {name} not found")
    return "{}"


def _table_optimizers(self: GlueResponse) -> tuple[dict, tuple[str, str, str]]:
    backend = self.glue_backend
    database, table = self._get_param("DatabaseName"), self._get_param("TableName")
    backend.get_table(database, table)  # EntityNotFoundException if it does not exist
    optimizers = backend.__dict__.setdefault("sakila_table_optimizers", {})
    return optimizers, (database, table, self._get_param("Type"))


def _optimizer_answer(key: tuple[str, str, str], configuration: dict) -> str:
    database, table, kind = key
    return json.dumps(
        {
            "CatalogId": "123456789012",
            "DatabaseName": database,
            "TableName": table,
            "TableOptimizer": {"type": kind, "configuration": configuration},
        }
    )


def create_table_optimizer(self: GlueResponse) -> str:
    optimizers, key = _table_optimizers(self)
    if key in optimizers:
        raise AlreadyExistsException(f"Table optimizer {key[2]} already exists")
    optimizers[key] = self._get_param("TableOptimizerConfiguration")
    return "{}"


def get_table_optimizer(self: GlueResponse) -> str:
    optimizers, key = _table_optimizers(self)
    if key not in optimizers:
        raise EntityNotFoundException(f"Table optimizer {key[2]} not found")
    return _optimizer_answer(key, optimizers[key])


def update_table_optimizer(self: GlueResponse) -> str:
    optimizers, key = _table_optimizers(self)
    if key not in optimizers:
        raise EntityNotFoundException(f"Table optimizer {key[2]} not found")
    optimizers[key] = self._get_param("TableOptimizerConfiguration")
    return "{}"


def delete_table_optimizer(self: GlueResponse) -> str:
    optimizers, key = _table_optimizers(self)
    if optimizers.pop(key, None) is None:
        raise EntityNotFoundException(f"Table optimizer {key[2]} not found")
    return "{}"


def update_work_group(self: AthenaResponse) -> str:
    name = self._get_param("WorkGroup")
    work_group = self.athena_backend.work_groups[name]
    if (description := self._get_param("Description")) is not None:
        work_group.description = description
    updates = dict(self._get_param("ConfigurationUpdates") or {})
    configuration = work_group.configuration
    if "ResultConfigurationUpdates" in updates:
        results = configuration.setdefault("ResultConfiguration", {})
        results.update(updates.pop("ResultConfigurationUpdates"))
    configuration.update(updates)
    return "{}"


def workflow_run_as_dict(self: FakeWorkflowRun) -> dict:
    answer = _moto_workflow_run_as_dict(self)
    for key in ("Graph", "Statistics", "ErrorMessage"):
        if (value := getattr(self, f"sakila_{key.lower()}", None)) is not None:
            answer[key] = value
    return answer


_moto_workflow_run_as_dict = FakeWorkflowRun.as_dict


@pytest.fixture
def moto_gaps(monkeypatch) -> None:
    """The calls above, on moto's classes, for one test."""
    for name, call in {
        "update_job": update_job,
        "update_crawler": update_crawler,
        "update_trigger": update_trigger,
        "update_connection": update_connection,
        "delete_connection": delete_connection,
        "create_table_optimizer": create_table_optimizer,
        "get_table_optimizer": get_table_optimizer,
        "update_table_optimizer": update_table_optimizer,
        "delete_table_optimizer": delete_table_optimizer,
    }.items():
        monkeypatch.setattr(GlueResponse, name, call, raising=False)
    monkeypatch.setattr(AthenaResponse, "update_work_group", update_work_group, raising=False)
    monkeypatch.setattr(FakeWorkflowRun, "as_dict", workflow_run_as_dict)

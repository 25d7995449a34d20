"""AWS calls ``lake deploy`` makes that moto 5.2.5 does not implement.

moto's server answers them with a 500 ("The update_job action has not been
implemented"), and its GetConnection leaves out ConnectionType. These fill
the gaps on moto's own backends, inside the test process that runs
ThreadedMotoServer, with the semantics AWS documents for each call, so that
deploy's requests still go through botocore and HTTP and what they change
is read back with the ordinary get calls:

- glue UpdateJob: JobUpdate replaces the definition (what it leaves out is
  reset), UpdateCrawler / UpdateTrigger: only the fields given change,
  UpdateConnection: ConnectionInput replaces the connection, DeleteConnection;
- athena UpdateWorkGroup: ConfigurationUpdates merged into the configuration.
"""

import json

import pytest
from moto.athena.responses import AthenaResponse
from moto.core.utils import utcnow
from moto.glue.exceptions import EntityNotFoundException
from moto.glue.models import FakeConnection
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


def connection_as_dict(self: FakeConnection, hide_password: bool = False) -> dict:
    answer = _moto_connection_as_dict(self, hide_password)
    answer["ConnectionType"] = self.connection_input.get("ConnectionType")
    return answer


_moto_connection_as_dict = FakeConnection.as_dict


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


@pytest.fixture
def moto_gaps(monkeypatch) -> None:
    """The calls above, on moto's classes, for one test."""
    for name, call in {
        "update_job": update_job,
        "update_crawler": update_crawler,
        "update_trigger": update_trigger,
        "update_connection": update_connection,
        "delete_connection": delete_connection,
    }.items():
        monkeypatch.setattr(GlueResponse, name, call, raising=False)
    monkeypatch.setattr(AthenaResponse, "update_work_group", update_work_group, raising=False)
    monkeypatch.setattr(FakeConnection, "as_dict", connection_as_dict)

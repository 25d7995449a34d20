"""The Athena workgroup the reports query in: its result location and engine
version enforced on every query."""

from typing import Any

from django.conf import settings

from lake.aws.clients import aws_client
from lake.aws.deploy.resource import TAG_KEY, TAG_VALUE, Resource, read_or_none

ATHENA_ENGINE = "Athena engine version 3"  # Iceberg time travel needs v3


class AthenaWorkGroup(Resource):
    kind = "Athena workgroup"

    def __init__(self) -> None:
        super().__init__(settings.ATHENA_WORKGROUP)

    def _configuration(self) -> dict[str, Any]:
        return {
            "ResultConfiguration": {
                "OutputLocation": f"{settings.ATHENA_S3_STAGING_DIR.rstrip('/')}/",
                "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
            },
            # Queries cannot pick another result location or engine.
            "EnforceWorkGroupConfiguration": True,
            "PublishCloudWatchMetricsEnabled": True,
            "EngineVersion": {"SelectedEngineVersion": ATHENA_ENGINE},
        }

    def desired(self) -> dict[str, Any]:
        return {
            "Description": "Sakila lake reports",
            "State": "ENABLED",
            "Configuration": self._configuration(),
        }

    def read(self) -> dict[str, Any] | None:
        answer = read_or_none(lambda: aws_client("athena").get_work_group(WorkGroup=self.name))
        # AWS answers a missing workgroup with an error, moto with no WorkGroup.
        return None if answer is None else answer.get("WorkGroup")

    def create(self) -> None:
        aws_client("athena").create_work_group(
            Name=self.name,
            Description=self.desired()["Description"],
            Configuration=self._configuration(),
            Tags=[{"Key": TAG_KEY, "Value": TAG_VALUE}],
        )

    def update(self, current: dict[str, Any]) -> None:
        configuration = self._configuration()
        aws_client("athena").update_work_group(
            WorkGroup=self.name,
            Description=self.desired()["Description"],
            State="ENABLED",
            ConfigurationUpdates={
                "ResultConfigurationUpdates": configuration["ResultConfiguration"],
                "EnforceWorkGroupConfiguration": configuration["EnforceWorkGroupConfiguration"],
                "PublishCloudWatchMetricsEnabled": configuration["PublishCloudWatchMetricsEnabled"],
                "EngineVersion": configuration["EngineVersion"],
            },
        )

    def delete(self) -> None:
        # Recursive: the workgroup's saved queries go with it (not its results).
        aws_client("athena").delete_work_group(WorkGroup=self.name, RecursiveDeleteOption=True)

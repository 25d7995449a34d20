"""docs/aws.md ("Running on AWS") says what a first real deploy needs to know."""

import re
from pathlib import Path

from django.conf import settings

from tests.lake.aws import moto_gaps

ROOT = Path(__file__).resolve().parents[3]
AWS_SECTION = (ROOT / "docs" / "aws.md").read_text()
TESTING = (ROOT / "docs" / "testing.md").read_text()


def test_the_network_needs_logs_and_monitoring_too():
    # A job with a VPC connection sends all its traffic through the subnet.
    for endpoint in ("glue", "secretsmanager", "logs", "monitoring"):
        assert f"`.{endpoint}`" in AWS_SECTION or f"<region>.{endpoint}`" in AWS_SECTION
    assert "NAT" in AWS_SECTION


def test_every_aws_setting_is_documented():
    names = [name for name in dir(settings) if name.startswith(("GLUE_", "ATHENA_"))]
    assert names
    missing = [name for name in names if f"`{name}`" not in AWS_SECTION]
    assert missing == []


def test_the_cost_of_a_day_at_the_defaults_is_stated():
    costs = AWS_SECTION[AWS_SECTION.index("## What it costs") :]
    assert "GLUE_REFRESH_MIN_INTERVAL_MINUTES" in costs
    assert re.search(r"a 12-hour busy day: at most 48 runs, about \$\d+", costs)
    for optimizer in ("compaction", "snapshot retention", "orphan file deletion"):
        assert optimizer in costs
    # Raw retention's requests, beside the optimizers.
    assert "raw retention" in costs and "BatchDeletePartition" in costs


def test_every_moto_gap_the_tests_fill_is_listed_with_the_aws_documentation():
    gaps = TESTING[TESTING.index("| moto's gap |") :]
    gaps = gaps[: gaps.index("\n\n")]
    patched = [
        name for name, value in vars(moto_gaps).items()
        if getattr(value, "__module__", "") == moto_gaps.__name__ and callable(value)
        and not name.startswith("_") and name not in ("moto_gaps", "workflow_run_as_dict")
    ]  # fmt: skip
    assert "update_job" in patched
    for name in patched:
        operation = "".join(part.title() for part in name.split("_"))
        assert f"`{operation}`" in gaps, f"{operation} is patched but not listed in docs/testing.md"
    assert "GetWorkflowRun" in gaps  # the graph of an ended workflow run
    assert gaps.count("API reference") >= 5

"""Provisioning of the lake's AWS resources: ``lake deploy`` and ``lake destroy``.

The resources are computed from settings (names from ``lake.aws.names``):
the S3 buckets, the uploaded job assets, the Glue databases, the JDBC
connection, the jobs, the crawler over the raw zone, the workflow and its
triggers (start -> extract -> marts -> crawler) and the Athena workgroup.

A plan is computed in full with read-only calls before anything changes:
each resource is read, compared field by field with what the settings ask
for, and becomes an action (create, update with the changed fields,
replace, delete, unchanged). Applying the plan makes only those calls, so a
second deploy finds everything unchanged and changes nothing.

``destroy`` removes what deploy made, in reverse order. It keeps the lake's
data (the Glue databases with their tables, the lake's files, Athena's
results) unless ``delete_data`` is asked for, and never deletes a bucket.

The modules: ``stack`` (the two plans), ``plan`` (comparing, printing and
applying a plan), ``resource`` (what every resource builds on), ``config``
(the settings deploy needs), and one module per kind of resource: ``s3``,
``glue``, ``workflow``, ``athena``, ``optimizers``. The command needs only
what is imported here.
"""

from lake.aws.deploy.plan import plan_apply
from lake.aws.deploy.resource import DeployError
from lake.aws.deploy.stack import deploy_plan, destroy_plan

__all__ = ["DeployError", "deploy_plan", "destroy_plan", "plan_apply"]

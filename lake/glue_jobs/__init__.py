"""The PySpark jobs Glue runs in production (``LAKE_ENGINE=glue``), and the
Spark engine on a Spark master of one's own (``LAKE_ENGINE=spark``).

A Glue workflow (``lake deploy``) chains them (the Spark engine runs them in
the same order, lake/engines/spark.py): ``extract`` (JDBC from RDS
into the raw zone and the staging Iceberg tables), then ``marts`` (the
date dimension and the marts, from the same SQL files transpiled to Spark
SQL), then the crawler over the raw zone. Entry scripts are
``<job>_job.py``; what they share is importable and imports no Django, so
the transform part runs on local PySpark in tests.

Run properties, the contract with ``lake/engines/glue.py`` and
``lake/engines/spark.py`` (kept by the Glue workflow run, or in a JSON file
per run on Spark: ``runtime.py``):

- set by the app when it starts a run: ``run_id``, ``full`` ("true" or
  "false"), ``watermarks_from`` (JSON {table: ISO timestamp}),
  ``published_snapshots`` (JSON {"staging.rental": snapshot id, ...}: what
  the last successful run published, the base that changes are found from);
- set by the extract job: ``watermarks_to`` (JSON {table: ISO timestamp}),
  ``extract_rows`` (JSON {table: rows read}), ``changed_rows`` (JSON
  {table: rows new or changed against the published snapshot, merged into
  staging, or deleted at the source and removed from it}: the "stage
  <table>" step rows), ``deleted_rows`` (JSON {table: of those, the rows
  deleted at the source});
- set by the marts job: ``mart_rows`` (JSON {mart: rows written}, dim_date
  included).

The extract job leaves a run's changed rows of each table as Parquet under
``<LAKE_WAREHOUSE>/staging/_changes/run_id=<n>/<table>/`` for the marts job
(in the staging zone, outside the raw zone the crawler catalogs), and the
rows deleted at the source under ``.../run_id=<n>/deleted/<table>/``; the
marts job deletes them once its marts are committed. The job library
(``--extra-py-files``, built by ``lake/aws/assets.py``) holds the modules the
jobs import, the staged tables' manifest (``staged_tables.json``, from the
Django models), the mart SQL rendered for Spark (``spark_sql/``) and the
``holidays`` package.
"""

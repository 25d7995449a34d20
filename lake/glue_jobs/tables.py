"""The staged tables as the Glue jobs see them, and Arrow types in Spark SQL.

``lake/pipeline/schemas.py`` derives the staging tables from the Django models, which
Glue cannot import: ``lake deploy`` writes them into the job library as
``staged_tables.json`` (``lake/aws/assets.py``), read back here.
"""

import json
from dataclasses import dataclass
from importlib.resources import files

import pyarrow as pa

MANIFEST = "staged_tables.json"


@dataclass(frozen=True)
class StagedTable:
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, Spark SQL type), in source order
    primary_key: tuple[str, ...]
    fully_extracted: bool  # read whole every run (see lake/pipeline/schemas.py FULLY_EXTRACTED)
    last_update_nullable: bool  # rows without a last_update are read every run
    month_partition: str | None = None

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "columns": dict(self.columns),
            "primary_key": list(self.primary_key),
            "fully_extracted": self.fully_extracted,
            "last_update_nullable": self.last_update_nullable,
            "month_partition": self.month_partition,
        }

    @classmethod
    def from_json(cls, data: dict) -> "StagedTable":
        return cls(
            name=data["name"],
            columns=tuple(data["columns"].items()),
            primary_key=tuple(data["primary_key"]),
            fully_extracted=data["fully_extracted"],
            last_update_nullable=data["last_update_nullable"],
            month_partition=data["month_partition"],
        )


def spark_type(arrow_type: pa.DataType) -> str:
    """The Spark SQL type that holds ``arrow_type``'s values unchanged.

    Timestamps are TIMESTAMP_NTZ: the lake keeps naive wall-clock times (the
    site runs with USE_TZ off), which Iceberg calls ``timestamp``.
    """
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_int32(arrow_type):
        return "INT"
    if pa.types.is_int64(arrow_type):
        return "BIGINT"
    if pa.types.is_decimal(arrow_type):
        return f"DECIMAL({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_timestamp(arrow_type) and arrow_type.tz is None:
        return "TIMESTAMP_NTZ"
    if pa.types.is_date32(arrow_type):
        return "DATE"
    if pa.types.is_string(arrow_type):
        return "STRING"
    if pa.types.is_binary(arrow_type):
        return "BINARY"
    raise ValueError(f"no Spark type for the Arrow type {arrow_type}")


def spark_columns(schema: pa.Schema) -> tuple[tuple[str, str], ...]:
    return tuple((field.name, spark_type(field.type)) for field in schema)


def ddl_schema(columns: tuple[tuple[str, str], ...]) -> str:
    """A Spark DDL schema string (``DataFrameReader.schema`` takes it)."""
    return ", ".join(f"`{name}` {spark_type}" for name, spark_type in columns)


def manifest_json(tables: list[StagedTable]) -> str:
    return json.dumps({"tables": [table.to_json() for table in tables]}, indent=1) + "\n"


def staged_tables(manifest: str | None = None) -> list[StagedTable]:
    """The staged tables from a manifest's JSON text (default: the job library's)."""
    if manifest is None:
        resource = files(__package__).joinpath(MANIFEST)
        if not resource.is_file():
            raise FileNotFoundError(
                f"{MANIFEST} is missing: lake deploy writes it into the job library "
                "(lake/aws/assets.py); outside Glue, pass the manifest's text"
            )
        manifest = resource.read_text()
    return [StagedTable.from_json(table) for table in json.loads(manifest)["tables"]]

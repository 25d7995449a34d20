"""Crawl: catalog the raw zone from its Parquet footers, as a Glue crawler does.

Each folder ``raw/<table>/`` is one table; its ``run_id=<n>`` folders are
partitions. The crawler reads the footer (schema) of each partition it has
not seen, records new partitions, and records new columns as a new schema
version (columns are never dropped: old partitions still have them).
"""

from dataclasses import dataclass

import pyarrow.parquet as pq
from django.utils import timezone
from pyarrow import fs

from lake.catalog import warehouse_uri
from lake.models import CrawledTable


@dataclass
class CrawlResult:
    tables: int
    new_partitions: int
    new_columns: int


def crawl_raw_zone() -> CrawlResult:
    filesystem, root = fs.FileSystem.from_uri(warehouse_uri())
    raw = f"{root}/raw"
    result = CrawlResult(0, 0, 0)
    if filesystem.get_file_info(raw).type == fs.FileType.NotFound:
        return result
    for table_dir in filesystem.get_file_info(fs.FileSelector(raw)):
        if table_dir.type != fs.FileType.Directory:
            continue
        result.tables += 1
        partitions, added = crawl_table(filesystem, table_dir.path, table_dir.base_name)
        result.new_partitions += partitions
        result.new_columns += added
    return result


def crawl_table(filesystem: fs.FileSystem, path: str, name: str) -> tuple[int, int]:
    """(new partitions, new columns) found in one raw table."""
    crawled, _ = CrawledTable.objects.get_or_create(
        name=name, defaults={"location": f"{warehouse_uri()}/raw/{name}"}
    )
    known = set(crawled.partitions)
    columns = {column["name"]: column["type"] for column in crawled.columns}
    added: list[dict] = []
    new_partitions = []
    for partition in filesystem.get_file_info(fs.FileSelector(path)):
        if partition.type != fs.FileType.Directory or partition.base_name in known:
            continue
        for part in filesystem.get_file_info(fs.FileSelector(partition.path)):
            if not part.path.endswith(".parquet"):
                continue
            schema = pq.read_schema(part.path, filesystem=filesystem)
            for field in schema:
                if field.name not in columns:
                    columns[field.name] = str(field.type)
                    added.append({"name": field.name, "type": str(field.type)})
        new_partitions.append(partition.base_name)
    if new_partitions:
        crawled.partitions = sorted(known | set(new_partitions), key=run_number)
        crawled.columns = [{"name": n, "type": t} for n, t in columns.items()]
        if added and known:  # the first crawl defines version 1
            crawled.schema_version += 1
            crawled.schema_changes = [
                *crawled.schema_changes,
                {
                    "version": crawled.schema_version,
                    "added": added,
                    "at": timezone.now().isoformat(),
                },
            ]
        crawled.last_crawled_at = timezone.now()
        crawled.save()
    return len(new_partitions), len(added) if known else 0


def run_number(partition: str) -> int:
    _, _, number = partition.partition("=")
    return int(number) if number.isdigit() else 0

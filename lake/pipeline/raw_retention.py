"""Raw retention on the local lake: the raw increments of the runs time travel
no longer reaches are deleted, and the local crawler's records forget their
partitions. (On AWS: ``lake.aws.raw_retention``.)

A full run reads the rental database, never the raw zone, so nothing needs
an increment once its run has left the retention window.
"""

from dataclasses import dataclass

from pyarrow import fs

from lake.catalog import warehouse_uri
from lake.models import CrawledTable
from lake.pipeline.crawl import run_number


@dataclass
class RawRetention:
    partitions_removed: int = 0
    files_removed: int = 0
    bytes_removed: int = 0

    def summary(self, *, planned: bool = False) -> str:
        return (
            f"{'would remove' if planned else 'removed'} {self.partitions_removed} raw "
            f"partitions, {self.files_removed} files "
            f"({self.bytes_removed / 1e6:.1f} MB)"
        )


def raw_retention(before_run: int, *, dry_run: bool) -> RawRetention:
    """Delete the raw partitions ``run_id=<n>`` with n < ``before_run``, and
    forget them in the crawled tables."""
    result = RawRetention()
    filesystem, root = fs.FileSystem.from_uri(warehouse_uri())
    raw = f"{root}/raw"
    if filesystem.get_file_info(raw).type == fs.FileType.NotFound:
        return result
    for table_dir in filesystem.get_file_info(fs.FileSelector(raw)):
        if table_dir.type != fs.FileType.Directory:
            continue
        removed = []
        for partition in filesystem.get_file_info(fs.FileSelector(table_dir.path)):
            number = run_number(partition.base_name)
            if partition.type != fs.FileType.Directory or not number or number >= before_run:
                continue
            for info in filesystem.get_file_info(fs.FileSelector(partition.path, recursive=True)):
                if info.type == fs.FileType.File:
                    result.files_removed += 1
                    result.bytes_removed += info.size or 0
            if not dry_run:
                filesystem.delete_dir(partition.path)
            removed.append(partition.base_name)
        result.partitions_removed += len(removed)
        if removed and not dry_run:
            crawled = CrawledTable.objects.filter(name=table_dir.base_name).first()
            if crawled is not None:
                crawled.partitions = [p for p in crawled.partitions if p not in set(removed)]
                crawled.save(update_fields=["partitions"])
    return result

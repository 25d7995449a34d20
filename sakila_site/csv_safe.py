"""CSV that spreadsheets open safely: one plain header row, then the rows.

Text cells that a spreadsheet would take for a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) are neutralised with a
leading ``'``, as OWASP advises against CSV injection:
https://owasp.org/www-community/attacks/CSV_Injection. Numbers are left as
they are (a negative balance stays a number). Reports, the SQL console and
``lake query`` all write CSV this way.
"""

import csv
from collections.abc import Iterable, Sequence
from typing import IO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """``value`` as written in a CSV cell: empty for NULL, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_write(out: IO[str], columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """The header row, then each row (a sequence in the order of ``columns``)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_cell(column) for column in columns])
    writer.writerows([csv_cell(value) for value in row] for row in rows)

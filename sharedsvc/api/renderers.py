"""CSV for every list (`?format=csv`): one row per record, nested fields flattened."""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

from rest_framework.renderers import BaseRenderer

logger = logging.getLogger(__name__)


def flatten(record: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(record, dict):
        return {prefix or "value": record}
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(flatten(value, name))
        elif isinstance(value, list):
            flat[name] = ";".join(
                str(v) if not isinstance(v, dict) else str(flatten(v)) for v in value
            )
        else:
            flat[name] = value
    return flat


# The first characters that make a spreadsheet read a cell as a formula, and the numbers
# that may start with one of them and stay numbers. Plain ASCII, so that PostgreSQL's regular
# expressions read them as Python's do (`csv_sql` guards cells in SQL with the same two).
FORMULA_START = "^[-=+@]"
NUMBER = r"^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\Z"
_NUMBER = re.compile(NUMBER)


def _safe(value: Any) -> Any:
    # Cells that a spreadsheet would run as formulas are quoted with a leading apostrophe.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _NUMBER.match(value):
        return "'" + value
    return "" if value is None else value


def header_of(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Every key of the flattened rows, in the order they first appear."""
    header: dict[str, None] = {}
    for row in rows:
        header.update(dict.fromkeys(row))
    return list(header)


class _Line:
    """A file whose every write is kept as the last line, for csv.writer to write into."""

    value = ""

    def write(self, text: str) -> None:
        self.value = text


class CSVWriter:
    """Flattened rows as CSV lines under one header, one line at a time.

    A row flattened to a key the header lacks (a nested object that was null in the rows the
    header was read from) goes, as JSON, into the column of its nearest ancestor in the
    header; when there is none it is logged, never dropped without a word.
    """

    def __init__(self, header: list[str]) -> None:
        self.header = header
        self.columns = {name: index for index, name in enumerate(header)}
        self._line = _Line()
        self._writer = csv.writer(self._line)

    def header_line(self) -> str:
        self._writer.writerow(self.header)
        return self._line.value

    def line(self, row: dict[str, Any]) -> str:
        cells: list[Any] = [""] * len(self.header)
        for key, value in row.items():
            index = self.columns.get(key)
            if index is None:
                index, value = self._ancestor(key, row)
                if index is None or cells[index] != "":
                    continue
            cells[index] = _safe(value)
        self._writer.writerow(cells)
        return self._line.value

    def _ancestor(self, key: str, row: dict[str, Any]) -> tuple[int | None, Any]:
        if row[key] in (None, ""):
            return None, None
        parts = key.split(".")
        for depth in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:depth])
            if prefix in self.columns:
                nested = {
                    k[len(prefix) + 1 :]: v for k, v in row.items() if k.startswith(prefix + ".")
                }
                return self.columns[prefix], json.dumps(nested, default=str, sort_keys=True)
        logger.warning("CSV export: column %r is not in the header; its value is left out", key)
        return None, None


class CSVRenderer(BaseRenderer):
    """A response's data as one CSV file (reports, one record, a list small enough to hold).

    The lists' `?format=csv` does not come here: it streams (`stream_csv`)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        if isinstance(data, dict) and "results" in data:
            data = data["results"]
        rows = [flatten(item) for item in (data if isinstance(data, list) else [data])]
        writer = CSVWriter(header_of(rows))
        text = writer.header_line() + "".join(writer.line(row) for row in rows)
        return text.encode(self.charset)


# Rows read ahead to find the header of a streamed CSV: every column of a list whose columns
# are fixed by its serializer, and the whole file for a list shorter than this.
LOOK_AHEAD = 1000
# Rows fetched and serialised at a time: what a streamed export holds in memory.
CHUNK = 1000


def stream_csv(rows: Iterator[Any], serialize: Callable[[list[Any]], list[Any]]) -> Iterator[str]:
    """A list as CSV lines, holding one chunk of rows at a time, never the whole list.

    `rows` are the list's model instances (a server-side cursor); `serialize` turns a chunk
    of them into the API's records (the serializer, gated fields and all). The first chunk
    is read before the first line is yielded, so a query that fails does so while an
    error can still be answered; call `next()` on the result inside the view for that.
    """
    first = [flatten(record) for record in serialize(list(islice(rows, LOOK_AHEAD)))]
    writer = CSVWriter(header_of(first))
    yield ""  # the first chunk has been read: the caller may now send the headers
    yield writer.header_line() + "".join(writer.line(row) for row in first)
    del first
    while chunk := list(islice(rows, CHUNK)):
        yield "".join(writer.line(flatten(record)) for record in serialize(chunk))

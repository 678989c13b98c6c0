"""CSV for every list (`?format=csv`): one row per record, nested fields flattened."""

from __future__ import annotations

import csv
import io
from typing import Any

from rest_framework.renderers import BaseRenderer


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


def _safe(value: Any) -> Any:
    # Cells that a spreadsheet would run as formulas are quoted with a leading apostrophe.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _is_number(value):
        return "'" + value
    return "" if value is None else value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        if isinstance(data, dict) and "results" in data:
            data = data["results"]
        rows = [flatten(item) for item in (data if isinstance(data, list) else [data])]
        header: list[str] = []
        for row in rows:
            header.extend(key for key in row if key not in header)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _safe(value) for key, value in row.items()})
        return buffer.getvalue().encode(self.charset)

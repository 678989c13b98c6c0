"""Query counting for the pins that keep N+1 from coming back (one helper for every test)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext


def count_queries(client, url: str, status: int = 200, **extra) -> int:
    """The number of SQL queries one GET of `url` runs; the answer must be `status`."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    assert response.status_code == status, (url, response.status_code)
    return len(ctx.captured_queries)

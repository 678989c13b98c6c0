"""One place for what tests read from a response: its query count, its HTML, its words."""

from __future__ import annotations

import html as htmllib
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext


def count_queries(client, url: str, status: int = 200, **extra) -> int:
    """The number of SQL queries one GET of `url` runs; the answer must be `status`.

    `extra` goes to `client.get` as is (`headers={...}`, `HTTP_ACCEPT=...`).
    """
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    assert response.status_code == status, (url, response.status_code)
    return len(ctx.captured_queries)


def html(response) -> str:
    """The page's markup with entities decoded, so `&#x27;` reads as `'`."""
    return htmllib.unescape(response.content.decode())


def text(response) -> str:
    """The page's words: tags dropped and whitespace collapsed to single spaces."""
    return " ".join(re.sub(r"<[^>]+>", " ", html(response)).split())

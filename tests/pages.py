"""One place for what tests read from a response: its query count, its HTML, its words."""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext


def count_queries(client, url: str, status: int = 200, **extra) -> int:
    """The number of SQL queries one GET of `url` runs; the answer must be `status`.

    A signed-in client is counted as a person who has just seen the home page, as one
    who signed in has: the header's count of what needs them is the session's then, kept
    for a minute (web.needs; what a page costs without it is pinned in
    tests/web/test_home.py). `extra` goes to `client.get` as is (`headers={...}`,
    `HTTP_ACCEPT=...`).
    """
    # (`client.session` makes a session when there is none: asked only of one that has.)
    if settings.SESSION_COOKIE_NAME in client.cookies and SESSION_KEY in client.session:
        client.get("/")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
        if response.streaming:
            response.getvalue()  # a streamed CSV queries as it goes: count all of it
    assert response.status_code == status, (url, response.status_code)
    # A streamed CSV reads in a transaction; inside the test's own, that is a savepoint,
    # which a request outside any transaction does not run.
    return sum(not q["sql"].startswith(SAVEPOINT_STATEMENTS) for q in ctx.captured_queries)


SAVEPOINT_STATEMENTS = ("SAVEPOINT ", "RELEASE SAVEPOINT ", "ROLLBACK TO SAVEPOINT ")


def html(response) -> str:
    """The page's markup with entities decoded, so `&#x27;` reads as `'`."""
    return htmllib.unescape(response.content.decode())


def text(response) -> str:
    """The page's words: tags dropped and whitespace collapsed to single spaces."""
    return " ".join(re.sub(r"<[^>]+>", " ", html(response)).split())


def counts_that_grow(
    pinned: dict[str, tuple[str, int]],
    client_for: Callable[[str], Any],
    *,
    small: Callable[[], None],
    large: Callable[[], None],
) -> list[str]:
    """Grow one world to a small and then a large size (`small()`, then `large()`) and count
    the queries of one GET of each url at both, each by a fresh client of its persona
    (`pinned`: url -> (persona, pinned count)). Returns what differs from its pin, so that
    one growth serves every url of a file (a growth per url made these tests slow)."""
    small()
    at_small = {
        url: count_queries(client_for(persona), url) for url, (persona, _) in pinned.items()
    }
    large()
    at_large = {
        url: count_queries(client_for(persona), url) for url, (persona, _) in pinned.items()
    }
    return [
        f"{persona} {url}: {at_small[url]} queries, then {at_large[url]} (pinned {count})"
        for url, (persona, count) in pinned.items()
        if (at_small[url], at_large[url]) != (count, count)
    ]

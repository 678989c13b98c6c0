"""A query's rows read through PostgreSQL's COPY protocol, a chunk at a time.

A server-side cursor costs about 1.5 µs a row more than COPY in libpq and Python (each row
is fetched as its own value); COPY hands over the text as it is written. psycopg2 only
offers COPY into a file, written as the rows come (`copy_expert`), so a thread runs it on
the request's own connection (in its transaction) and hands the text over a small queue:
the reader holds a few chunks at a time, and the COPY waits while the client is slow.

The query must give one text column per row, never null (`csv_sql` gives each row's whole
CSV line). COPY's text format ends each row with `\\n` and escapes backslashes and control
characters; the chunks come back with CSV's `\\r\\n` and the text as the query gave it.
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

# Bytes gathered before they are handed over, and chunks waiting at most: what an export
# holds in memory, whatever its length.
CHUNK_BYTES = 1 << 16
WAITING = 4
_DONE = object()
_ESCAPE = re.compile(rb"\\(.)")
_UNESCAPED = {
    b"\\": b"\\",
    b"b": b"\b",
    b"f": b"\f",
    b"n": b"\n",
    b"r": b"\r",
    b"t": b"\t",
    b"v": b"\v",
}


class _Stopped(Exception):
    """The reader went away (the client closed the download)."""


def _unescape(chunk: bytes) -> bytes:
    # Rows end with a bare \n; one inside a value is escaped, so this is the rows' end.
    chunk = chunk.replace(b"\n", b"\r\n")
    if b"\\" in chunk:
        chunk = _ESCAPE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(1)), chunk)
    return chunk


class _Sink:
    """Where psycopg2 writes the COPY: whole rows per write, gathered into chunks."""

    def __init__(self, chunks: queue.Queue, stop: threading.Event) -> None:
        self.chunks = chunks
        self.stop = stop
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes | str) -> None:
        if self.stop.is_set():
            raise _Stopped
        part = data.encode() if isinstance(data, str) else data
        self.parts.append(part)
        self.size += len(part)
        if self.size >= CHUNK_BYTES:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.put(b"".join(self.parts))
            self.parts, self.size = [], 0

    def put(self, item: Any) -> None:
        while True:
            try:
                self.chunks.put(item, timeout=0.25)
                return
            except queue.Full:
                if self.stop.is_set():
                    raise _Stopped from None


def copy_out(queryset: QuerySet, *, using: str | None = None) -> Iterator[bytes]:
    """The rows of a one-column text queryset, as CSV text in chunks of whole rows.

    Call it inside the transaction the rows are read in; the query is logged with the
    connection's others (a query-count test sees it)."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return  # a condition that no row can meet (`pk__in=[]`): no query, no rows
    yield from copy_out_sql(sql, params, using=using or queryset.db)


def copy_out_sql(sql: str, params: Any, *, using: str) -> Iterator[bytes]:
    """`copy_out` of a query written as SQL (one text column per row, never null)."""
    connection = connections[using]
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor:
        statement = cursor.mogrify(sql, params).decode()
    copy = f"COPY ({statement}) TO STDOUT"
    chunks: queue.Queue = queue.Queue(maxsize=WAITING)
    stop = threading.Event()
    sink = _Sink(chunks, stop)

    def run() -> None:
        try:
            with connection.wrap_database_errors, raw.cursor() as cursor:
                cursor.copy_expert(copy, sink)
            sink.flush()
            sink.put(_DONE)
        except _Stopped:
            pass
        except BaseException as error:  # handed to the reader, who raises it
            with contextlib.suppress(_Stopped):
                sink.put(error)

    began = time.monotonic()
    thread = threading.Thread(target=run, name="csv-copy", daemon=True)
    thread.start()
    try:
        while (item := chunks.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield _unescape(item)
    finally:
        # Stop a COPY the reader left (its thread may be waiting to hand over a chunk), or
        # wait the moment a finished one takes to end.
        stop.set()
        while thread.is_alive():
            try:
                chunks.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.01)
        if connection.queries_logged:
            connection.queries_log.append({"sql": copy, "time": f"{time.monotonic() - began:.3f}"})

"""The audit trail's CSV written by PostgreSQL, newest first, as it streams.

pghistory's events view (`pghistory.models.Events`) is a UNION over every event table that
computes each event's data and diff (its row as JSON against the same object's event
before it) for every row, then sorts them all by time: 4.2 s before the first byte over
208,000 events, and the serializer then parses and re-writes every JSON cell in Python.

Here each event table is read newest first from its (time, event) index (`audit.tracked`),
with the object's event before it found on the (object, event) index (a LATERAL lookup),
and the branches are merged by PostgreSQL as they stream (UNION ALL under the list's ORDER
BY: a Merge Append), so nothing is computed before it is sent. The `before`, `after` and
`changes` cells are written by SQL from the columns themselves, as the serializer's
`json.dumps(..., sort_keys=True)` writes pghistory's data and diff:

- keys sorted, `", "` and `": "` between them; integers, booleans and null as they are;
  dates, times and uuids as the JSON strings PostgreSQL writes (the strings Python reads);
- a decimal as Python's float of it prints: trailing zeros dropped, `.0` if none is left
  (exact while the number has at most 15 digits, which numeric(14, 4) and narrower hold);
- a text as JSON escapes it, which for ASCII is Python's escaping too.

Whatever SQL cannot prove it writes the same (a text outside ASCII, a JSON column with a
value, a decimal too wide or NaN, a line break or our markers in a free-text cell, a `url`
that is not a string) is handed to Python instead: the row comes as the raw values of the
serializer's fields between two markers, and the serializer itself writes its line. A
test compares the two files for a mixed trail; the gate and the filters are the list's
own (the WHERE clause of the viewset's filtered queryset, applied to this union).

The SQL is put together from the models' tables and columns and this module's constants
only (hence the `noqa: S608`); the list's filter values go as parameters, by Django.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Iterator
from functools import cached_property, lru_cache
from typing import Any

import pghistory.models
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connections, models
from django.db.models import QuerySet
from django.db.models.expressions import Col, RawSQL
from django.db.models.query import RawQuerySet
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.query import Query
from django.utils import timezone
from pghistory import core
from rest_framework.settings import api_settings

from sharedsvc.api.copy_out import copy_out_sql
from sharedsvc.api.csv_sql import TEXT, Column
from sharedsvc.api.renderers import CSVWriter, flatten
from sharedsvc.models import User

# A row that Python writes comes as MARK + a JSON array of its raw values + END. A line
# SQL writes holds neither (nor a line break: those rows go to Python too).
MARK, END = "\x1e", "\x1f"
_HANDED = re.compile(rb"\x1e([^\r\n]*)\x1f\r\n")
# A text cell SQL writes as Python does: ASCII without DEL (Python escapes the rest as \\u).
NOT_ASCII = r"[^\x01-\x7e]"
BREAKS = r"[\r\n\x1e\x1f]"
# The columns of pghistory's events view that the list's WHERE and ORDER BY may name.
COLUMNS = (
    "pgh_slug",
    "pgh_model",
    "pgh_id",
    "pgh_created_at",
    "pgh_label",
    "pgh_obj_model",
    "pgh_obj_id",
    "pgh_context_id",
    "pgh_context",
)
# Newest first; the model breaks ties (one transaction's events share a time, and event
# ids are per table).
ORDER = ("-pgh_created_at", "-pgh_id", "pgh_model")
TABLE = pghistory.models.Events._meta.db_table
# An event's data and its diff against the event before it (`p`), as pghistory's events
# view computes them.
DATA = (
    "(SELECT jsonb_object_agg(key, value) FROM jsonb_each(row_to_json(e)::jsonb)"
    " WHERE key NOT LIKE 'pgh_%%')"
)
DIFF = (
    "(SELECT jsonb_object_agg(curr.key, array[prev.value, curr.value])"
    " FROM (SELECT key, value FROM jsonb_each(row_to_json(e)::jsonb)) curr"
    " LEFT OUTER JOIN (SELECT key, value FROM jsonb_each(row_to_json(p)::jsonb)) prev"
    " ON curr.key = prev.key"
    " WHERE curr.key NOT LIKE 'pgh_%%' AND curr.value != prev.value"
    " AND prev IS NOT NULL)"
)
ZONE = re.compile(r"^[A-Za-z0-9_+/-]+$")
_INTEGERS = ("integer", "bigint", "smallint")
_AS_JSON = ("date", "timestamp with time zone", "uuid", "inet")


def _is_pgh(column: str) -> bool:
    # pghistory leaves out of an event's data the keys `LIKE 'pgh_%'`.
    return column.startswith("pgh") and len(column) > 3


class _Value:
    """One column of an event table as Python's JSON of the value pghistory gives: its SQL
    text (quotes doubled, as inside a CSV cell) and when SQL cannot write it."""

    def __init__(self, field: Any, connection: Any) -> None:
        self.key = field.column
        target = field.target_field if field.is_relation else field
        self.db_type = (target.db_type(connection) or "").split("(")[0].strip()
        self.field = target

    def text(self, alias: str) -> str:
        col = f'{alias}."{self.key}"'
        if self.db_type in (*_INTEGERS, "boolean"):
            return f"COALESCE({col}::text, 'null')"
        if self.db_type == "numeric":
            if not getattr(self.field, "decimal_places", 0):
                return f"COALESCE({col}::text, 'null')"
            # Python reads `12.50` as a float and prints it `12.5`; `3.00` as `3.0`.
            trimmed = f"trim_scale({col})"
            return (
                f"CASE WHEN {col} IS NULL THEN 'null' WHEN scale({trimmed}) = 0"
                f" THEN {trimmed}::text || '.0' ELSE {trimmed}::text END"
            )
        if self.db_type in (*_AS_JSON, "varchar", "text", "character varying"):
            return f"COALESCE(replace(to_json({col})::text, '\"', '\"\"'), 'null')"
        return "'null'"  # never written by SQL: `needs_python`

    def needs_python(self, alias: str) -> str | None:
        col = f'{alias}."{self.key}"'
        if self.db_type in (*_INTEGERS, "boolean", *_AS_JSON):
            return None
        if self.db_type in ("varchar", "text", "character varying"):
            return f"{col} ~ '{NOT_ASCII}'"
        if self.db_type == "numeric":
            digits = getattr(self.field, "max_digits", None) or 1000
            places = getattr(self.field, "decimal_places", None) or 0
            if places and (digits > 15 or places > 4):
                # Beyond 15 digits, or below 1e-4 (Python's exponent form), a float differs.
                return (
                    f"({col} = 'NaN' OR abs({col}) >= 1e15 OR ({col} <> 0 AND abs({col}) < 0.0001))"
                )
            return f"{col} = 'NaN'"
        return f"{col} IS NOT NULL"

    def changed(self) -> str:
        if self.db_type in (*_INTEGERS, "boolean", "numeric", "varchar", "text", *_AS_JSON):
            return f'e."{self.key}" IS DISTINCT FROM p."{self.key}"'
        return f'to_jsonb(e."{self.key}") IS DISTINCT FROM to_jsonb(p."{self.key}")'


@lru_cache(maxsize=32)
def _cell(sql: str, using: str) -> str:
    """A free-text cell as the csv writer writes it (`csv_sql.Column.cell`: the formula
    guard and minimal quoting), compiled from the same expression, its values inlined."""
    connection = connections[using]
    query = Query(pghistory.models.Events)
    expression = Column(RawSQL(sql, []), TEXT, free_text=True).cell()  # noqa: S611
    compiler = query.get_compiler(connection=connection)
    text, params = compiler.compile(expression.resolve_expression(query))
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        return cursor.mogrify(text, params).decode().replace("%", "%%")


def _time_text(col: str) -> str:
    """DRF's ISO 8601 text of a time in the current zone: microseconds when not zero, the
    offset as +HH:MM (or Z when none)."""
    zone = timezone.get_current_timezone_name()
    if not ZONE.match(zone):
        raise ValueError(f"unexpected time zone name {zone!r}")
    local = f"({col} AT TIME ZONE '{zone}')"
    offset = f"EXTRACT(EPOCH FROM {local} - ({col} AT TIME ZONE 'UTC'))::int"
    return (
        f"to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"  # noqa: S608
        f" || CASE WHEN to_char({local}, 'US') = '000000' THEN '' ELSE to_char({local}, '.US') END"
        f" || (SELECT CASE WHEN o = 0 THEN 'Z' ELSE"
        f" CASE WHEN o < 0 THEN '-' ELSE '+' END || to_char(abs(o) / 3600, 'FM00') || ':'"
        f" || to_char(abs(o) %% 3600 / 60, 'FM00')"
        f" || CASE WHEN abs(o) %% 60 = 0 THEN '' ELSE ':' || to_char(abs(o) %% 60, 'FM00') END"
        f" END FROM (SELECT {offset} AS o) AS _offset)"
    )


class _Branch:
    """The SELECT of one event table: the view's columns, and each event's CSV line."""

    def __init__(self, event_model: type[models.Model], connection: Any) -> None:
        self.model = event_model
        self.table = event_model._meta.db_table
        self.label = event_model._meta.label
        self.tracked = event_model.pgh_tracked_model._meta.label  # type: ignore[attr-defined]
        fields = [f for f in event_model._meta.concrete_fields if not _is_pgh(f.column)]
        self.values = [_Value(f, connection) for f in sorted(fields, key=lambda f: f.column)]
        self.connection = connection
        self.obj_is_integer = (
            _Value(event_model._meta.get_field("pgh_obj"), connection).db_type in _INTEGERS
        )

    def sql(self, shape: str) -> str:
        """`keys`: the view's columns without data and diff (a count); `events`: with them,
        as pghistory computes them (a page); `lines`: with each event's CSV line."""
        context = pghistory.models.Context._meta.db_table
        columns = (
            f"e.pgh_created_at, e.pgh_id, '{self.label}' AS pgh_model,"
            f" '{self.label}:' || e.pgh_id AS pgh_slug, '{self.tracked}' AS pgh_obj_model,"
            " e.pgh_label, e.pgh_obj_id::text AS pgh_obj_id, e.pgh_context_id,"
            " c.metadata AS pgh_context"
        )
        before = (
            f' LEFT JOIN LATERAL (SELECT * FROM "{self.table}" p'  # noqa: S608
            " WHERE p.pgh_obj_id = e.pgh_obj_id AND p.pgh_id < e.pgh_id"
            " ORDER BY p.pgh_id DESC LIMIT 1) p ON true"
        )
        if shape == "keys":
            joins = f'LEFT JOIN "{context}" c ON c.id = e.pgh_context_id'
        elif shape == "events":
            columns += f", {DATA} AS pgh_data, {DIFF} AS pgh_diff"
            joins = f'LEFT JOIN "{context}" c ON c.id = e.pgh_context_id {before}'
        else:
            columns += f", {self._line()} AS csv_line"
            # What depends on the context alone (who, the url, their cells) and on the time
            # alone: each written once per context and per time, the rows of a transaction
            # sharing them (OFFSET 0 keeps them apart, for PostgreSQL to memoize).
            url = "(c.metadata ->> 'url')"
            handed = " OR ".join(
                [
                    "jsonb_typeof(c.metadata -> 'url') NOT IN ('string', 'null')",
                    f"u.username ~ '{BREAKS}'",
                    f"{url} ~ '{BREAKS}'",
                ]
            )
            joins = (
                "LEFT JOIN LATERAL (SELECT c.metadata, u.username,"  # noqa: S608
                f" {_cell('u.username', self.connection.alias)} AS actor_cell,"
                f" {_cell(url, self.connection.alias)} AS url_cell, ({handed}) AS handed"
                f' FROM "{context}" c LEFT JOIN "{User._meta.db_table}" u'
                " ON u.id = (c.metadata ->> 'user')::bigint"
                " WHERE c.id = e.pgh_context_id OFFSET 0) c ON true"
                f" LEFT JOIN LATERAL (SELECT {_time_text('e.pgh_created_at')} AS at OFFSET 0) t"
                f" ON true {before}"
            )
        return (
            f'(SELECT {columns} FROM "{self.table}" e {joins}'  # noqa: S608
            " ORDER BY e.pgh_created_at DESC, e.pgh_id DESC)"
        )

    def _json(self, pick: Callable[[_Value], str]) -> str:
        """A JSON object of every column, keys sorted, as a quoted CSV cell."""
        pairs = " || ', ' || ".join(f'\'""{v.key}"": \' || {pick(v)}' for v in self.values)
        return f"'\"{{' || {pairs} || '}}\"'"

    def _line(self) -> str:
        cell = lambda sql: _cell(sql, self.connection.alias)  # noqa: E731
        changed = {v.key: f"({v.changed()})" for v in self.values}
        diff = f"(p.pgh_id IS NOT NULL AND ({' OR '.join(changed.values()) or 'false'}))"
        after = self._json(lambda v: v.text("e"))
        before = self._json(
            lambda v: f"CASE WHEN {changed[v.key]} THEN {v.text('p')} ELSE {v.text('e')} END"
        )
        changes = " , ".join(
            f'CASE WHEN {changed[v.key]} THEN \'""{v.key}"": {{""after"": \' || '
            f"{v.text('e')} || ', \"\"before\"\": ' || {v.text('p')} || '}}' END"
            for v in self.values
        )
        changes = f"'\"{{' || concat_ws(', ', {changes}) || '}}\"'"
        json_cells = (
            f"CASE WHEN e.pgh_label = 'delete' THEN {after} || ',,'"
            f" WHEN e.pgh_label = 'update' AND {diff}"
            f" THEN {before} || ',' || {after} || ',' || {changes}"
            f" ELSE ',' || {after} || ',' END"
        )
        obj = "e.pgh_obj_id::text" if self.obj_is_integer else cell("e.pgh_obj_id::text")
        line = (
            f"concat('{self.label}:' || e.pgh_id, ',{self.tracked},', {obj}, ',',"
            f" {cell('e.pgh_label')}, ',', t.at, ',', c.actor_cell, ',', c.url_cell, ',',"
            f" {json_cells})"
        )
        needs = [
            condition
            for alias in ("e", "p")
            for value in self.values
            if (condition := value.needs_python(alias)) is not None
        ]
        needs.append("c.handed")
        for free in ("e.pgh_label",) + (() if self.obj_is_integer else ("e.pgh_obj_id::text",)):
            needs.append(f"{free} ~ '{BREAKS}'")
        # The python row: the raw values of the serializer's fields, data and diff as
        # pghistory computes them.
        handed = (
            f"E'\\x1e' || json_build_array('{self.label}:' || e.pgh_id, '{self.tracked}',"
            f" e.pgh_obj_id::text, e.pgh_label, e.pgh_created_at, c.username, c.metadata,"
            f" {DATA}, {DIFF})::text || E'\\x1f'"
        )
        return f"CASE WHEN {' OR '.join(needs)} THEN {handed} ELSE {line} END"


def supported(queryset: Any) -> bool:
    """Whether the list's queryset is the one this writes: pghistory's events over every
    event table, newest first, annotated with the actor only."""
    if not isinstance(queryset, QuerySet) or queryset.model is not pghistory.models.Events:
        return False
    query = queryset.query
    if getattr(query, "tracks", None) or getattr(query, "references", None):
        return False
    if getattr(query, "across", None):
        return False
    if tuple(query.order_by) != ORDER or set(query.annotations) - {"actor"}:
        return False
    if query.distinct or query.low_mark or query.high_mark is not None or query.extra:
        return False
    if api_settings.DATETIME_FORMAT.lower() != "iso-8601":
        return False
    return _names_only(query.where)


def _names_only(node: Any) -> bool:
    """The WHERE names only the view's columns this union has (never data or diff)."""
    if isinstance(node, Col):
        return node.target.column in COLUMNS
    children = getattr(node, "get_source_expressions", None)
    return children is not None and all(_names_only(child) for child in children())


@lru_cache(maxsize=16)
def _union(using: str, zone: str, shape: str) -> str:
    """The UNION ALL of every event table's SELECT; the same for every request in one time
    zone (the lines' SQL is some 300 kB: put together once)."""
    connection = connections[using]
    branches = [_Branch(m, connection).sql(shape) for m in core.event_models()]
    return " UNION ALL ".join(branches)


def trail_sql(
    queryset: QuerySet,
    shape: str,
    select: str | None = None,
    limits: tuple[int, int] | None = None,
) -> tuple[str, list[Any]]:
    """The list's query over this union (of `shape`): its WHERE and ORDER BY (and the rows
    from `low` to `high` of it), selecting `select` (or the view's columns)."""
    union = _union(queryset.db, timezone.get_current_timezone_name(), shape)
    outer = queryset
    if select is not None:
        outer = queryset.annotate(
            _selected=RawSQL(select, [], output_field=models.TextField())  # noqa: S611
        ).values_list("_selected", flat=True)
    else:
        outer = queryset.all()
    if limits is not None:
        outer.query.set_limits(*limits)
    # The view's own SELECT without pghistory's CTE (raises EmptyResultSet for none()).
    base_sql, base_params = SQLCompiler.as_sql(outer.query.get_compiler(using=queryset.db))
    return f'WITH "{TABLE}" AS ({union}) {base_sql}', list(base_params)


class _Handed:
    """A row handed to Python: the attributes the serializer reads."""

    def __init__(self, values: list[Any]) -> None:
        (
            self.pgh_slug,
            self.pgh_obj_model,
            self.pgh_obj_id,
            self.pgh_label,
            created_at,
            self.actor,
            self.pgh_context,
            self.pgh_data,
            self.pgh_diff,
        ) = values
        self.pgh_created_at = datetime.datetime.fromisoformat(created_at)


def lines(
    queryset: QuerySet, serialize: Callable[[list[Any]], list[Any]], header: list[str]
) -> Iterator[bytes]:
    """The trail's CSV, a chunk at a time: the first item (empty) once the first chunk
    has been read, as `stream_csv` yields it; `serialize` writes the rows handed over."""
    try:
        sql, params = trail_sql(queryset, "lines", f'"{TABLE}"."csv_line"')
    except EmptyResultSet:
        yield b""
        yield b"\r\n"
        return
    writer = CSVWriter(header)

    def finish(chunk: bytes) -> bytes:
        if b"\x1e" not in chunk:
            return chunk
        handed = [_Handed(json.loads(m.group(1))) for m in _HANDED.finditer(chunk)]
        written = iter([writer.line(flatten(record)).encode() for record in serialize(handed)])
        return _HANDED.sub(lambda _: next(written), chunk)

    chunks = (finish(c) for c in copy_out_sql(sql, params, using=queryset.db))
    first = next(chunks, None)
    yield b""
    if first is None:
        yield b"\r\n"  # as the serializer's stream writes a list without rows
        return
    yield writer.header_line().encode() + first
    yield from chunks


class TrailPaginator(Paginator):
    """The trail's JSON pages from this union: newest first from the indexes, the data and
    diff computed only for the rows read (a page, and those before it on the list), with
    the list's own WHERE and columns (the actor too). Through pghistory's view, a page
    computed every event's diff and sorted them all first (3.6 s over 208,000 events).
    A queryset of another shape is paged as Django pages it."""

    @cached_property
    def count(self) -> int:
        queryset: Any = self.object_list
        if not supported(queryset):
            return super().count
        try:
            sql, params = trail_sql(queryset.order_by(), "keys", "1")
        except EmptyResultSet:
            return 0
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({sql}) AS trail", params)  # noqa: S608
            return int(cursor.fetchone()[0])

    def page(self, number: Any) -> Page:
        queryset: Any = self.object_list
        if not supported(queryset):
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        events: list[Any] = []
        if top > bottom:
            sql, params = trail_sql(queryset, "events", limits=(bottom, top))
            events = list(
                RawQuerySet(sql, model=queryset.model, params=tuple(params), using=queryset.db)
            )
        return Page(events, number, self)

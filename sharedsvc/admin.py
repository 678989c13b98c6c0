"""The outbox in the admin: what waits, what was handed over, and what failed and why.

Read-only: an item is written by the change that wanted the work and moved on by the
dispatcher (`sharedsvc.outbox`); an administrator reads it, nobody edits it by hand.

And the audit trail's list (`AuditEventsAdmin`, pghistory's events admin made cheap), which
pghistory registers itself once the apps are ready: the setting
`PGHISTORY_ADMIN_CLASS = "sharedsvc.admin.AuditEventsAdmin"` names it.
"""

from __future__ import annotations

import operator
from functools import reduce
from typing import Any, cast

from django.contrib import admin
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.functional import cached_property
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from pghistory.admin import EventsAdmin
from pghistory.models import EventsQuerySet

from sharedsvc.models import OutboxItem

# django-otp's own admin pages show each secret (and its QR code) and edit devices without
# the services: two-factor is set up and turned off by its person ("Your account") only.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


@admin.register(OutboxItem)
class OutboxItemAdmin(admin.ModelAdmin):
    list_display = ["key", "task", "status", "attempts", "last_error", "created_at", "sent_at"]
    list_filter = ["status", "task"]
    search_fields = ["key", "task", "request_id"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "key",
        "task",
        "kwargs",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
        "request_id",
    ]

    def has_module_permission(self, request) -> bool:
        return request.user.has_perm("sharedsvc.use_admin")

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("sharedsvc.use_admin")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# pghistory's default order of its events admin (`PGHISTORY_ADMIN_ORDERING`), with the
# admin's tie-break on the primary key (the slug), by either name.
quote = connection.ops.quote_name
WHOLE_TRAIL_ORDERS = [["-pgh_created_at", "-pgh_slug"], ["-pgh_created_at", "-pk"]]


class EventsPaginator(Paginator):
    """A page of pghistory's events in two steps. Its events view is a UNION over every
    event table that computes each event's data and diff (a JSON row, the event before it,
    their difference) for every row before sorting them by time: a page of 100 read that
    way computed all of them (0.5 s over 25k events). First the page's keys, which the
    database finds without computing any diff (the view's unused columns are pruned), then
    those events whole, each branch of the UNION reading only its own by primary key.

    The whole trail in its default order (the list as it opens) is counted and its keys
    found in the event tables themselves, not through the view: the view's CTE of every
    table took PostgreSQL longer to plan and read than the tables' own counts and top-N."""

    def _tables(self) -> list[tuple[str, str]] | None:
        """Each event table and its model's label, when the list is the whole trail in its
        default order (no filter, no search): then it is read from the tables themselves,
        not through the view (`_whole_count`, `_whole_keys`). None otherwise."""
        queryset = cast(QuerySet[Any], self.object_list)
        query = queryset.query
        if (
            query.where
            or list(query.order_by) not in WHOLE_TRAIL_ORDERS
            or getattr(query, "references", None)
            or getattr(query, "tracks", None)
            or query.low_mark
            or query.high_mark is not None
        ):
            return None
        compiler = query.get_compiler(using=queryset.db)
        return [(model._meta.label, model._meta.db_table) for model in compiler.across]

    @cached_property
    def count(self) -> int:
        tables = self._tables()
        if tables is None:
            return super().count
        # Each table's count, added: the view would build every event's row first.
        # The tables' names are the event models' own (quoted), never a request's.
        counts = " UNION ALL ".join(
            f"SELECT COUNT(*) AS n FROM {quote(table)}"  # noqa: S608
            for _, table in tables
        )
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(SUM(n), 0) FROM ({counts}) AS counts")  # noqa: S608
            return int(cursor.fetchone()[0])

    def _whole_keys(self, tables: list[tuple[str, str]], bottom: int, top: int) -> list[Any]:
        """The page's keys in the view's order (time, then slug, both descending), from each
        table's first `top` rows in that order: a top-N of each, then of them all."""
        if not tables:
            return []
        # Each table's first rows by time alone, with every row tied with the last of them
        # (a chargeback's charges share one time): the slug, text compared, is made for
        # those only.
        branches = " UNION ALL ".join(
            f"""(SELECT %s AS pgh_model, pgh_id, pgh_created_at,
                        CONCAT(%s, ':', pgh_id) AS pgh_slug
                 FROM {quote(table)} ORDER BY pgh_created_at DESC
                 FETCH FIRST %s ROWS WITH TIES)"""  # noqa: S608
            for _, table in tables
        )
        params: list[Any] = []
        for label, _ in tables:
            params += [label, label, top]
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT pgh_model, pgh_id FROM ({branches}) AS events
                    ORDER BY pgh_created_at DESC, pgh_slug DESC LIMIT %s OFFSET %s""",  # noqa: S608
                [*params, top - bottom, bottom],
            )
            return list(cursor.fetchall())

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        queryset = cast(EventsQuerySet, self.object_list)
        tables = self._tables()
        if tables is not None:
            keys = self._whole_keys(tables, bottom, top)
        else:
            keys = list(queryset.values_list("pgh_model", "pgh_id")[bottom:top])
        by_model: dict[str, list[int]] = {}
        for model, pk in keys:
            by_model.setdefault(model, []).append(pk)
        events: list[Any] = []
        if by_model:
            wanted = reduce(
                operator.or_,
                (Q(pgh_model=model, pgh_id__in=pks) for model, pks in by_model.items()),
            )
            # Across the page's own event tables only: a UNION of all of them, each
            # branch with its event before and its diff, took longer to plan than to run.
            across = queryset.query.get_compiler(using=queryset.db).across
            on_page = [model for model in across if model._meta.label in by_model]
            found = {(e.pgh_model, e.pgh_id): e for e in queryset.across(*on_page).filter(wanted)}
            events = [found[key] for key in keys if key in found]
        return Page(events, number, self)


class AuditEventsAdmin(EventsAdmin):
    """pghistory's list of every audit event, read a page at a time (`EventsPaginator`),
    and counted once: the paginator's count is the whole trail's when no filter is chosen."""

    paginator = EventsPaginator
    show_full_result_count = False

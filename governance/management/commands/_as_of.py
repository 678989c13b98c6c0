"""`--as-of DATETIME` for the board's commands: an ISO date-time, local time if naive."""

from __future__ import annotations

import datetime

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

AS_OF_INVALID = (
    "Give --as-of as an ISO date-time, for example 2026-11-29T09:00 or 2026-11-29T09:00+00:00."
)


def parse_as_of(value: str | None) -> datetime.datetime:
    if not value:
        return timezone.now()
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        try:
            parsed = datetime.datetime.combine(datetime.date.fromisoformat(value), datetime.time())
        except ValueError:
            raise CommandError(AS_OF_INVALID) from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed

"""manage.py notify_late_commitments [--as-of DATE]: tell the sponsor and the department,
once, of each commitment whose date has passed without the department joining."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from initiatives.services import commitments_notify_late

AS_OF_INVALID = "Give --as-of as an ISO date, for example 2027-04-02."


def parse_as_of(value: str | None) -> datetime.date:
    if not value:
        return timezone.localdate()
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(AS_OF_INVALID) from None


class Command(BaseCommand):
    help = (
        "Tell the sponsor and the department, once, of each commitment to a programme "
        "whose date has passed without the department joining."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--as-of", dest="as_of", help="Act as if it were this date (ISO).")

    def handle(self, *args, as_of: str | None = None, **options) -> None:
        sent = commitments_notify_late(as_of=parse_as_of(as_of))
        self.stdout.write(f"{sent} late commitment(s) told.")

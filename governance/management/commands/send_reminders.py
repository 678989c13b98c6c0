"""manage.py send_reminders [--as-of DATETIME]: remind undecided seats 48 hours before closing."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from governance.management.commands._as_of import parse_as_of
from governance.services import case_send_reminders


class Command(BaseCommand):
    help = (
        "Remind each eligible seat that has not voted, once, within 48 hours of its case closing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--as-of", dest="as_of", help="Act as if it were this date-time (ISO).")

    def handle(self, *args, as_of: str | None = None, **options) -> None:
        sent = case_send_reminders(as_of=parse_as_of(as_of))
        self.stdout.write(f"{sent} reminder(s) sent.")

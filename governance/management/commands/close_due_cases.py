"""manage.py close_due_cases [--as-of DATETIME]: decide every case whose time is up."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from governance.management.commands._as_of import parse_as_of
from governance.services import case_close_due


class Command(BaseCommand):
    help = "Decide the open board cases whose closing time has come (with quorum by their votes, else they lapse)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--as-of", dest="as_of", help="Act as if it were this date-time (ISO).")

    def handle(self, *args, as_of: str | None = None, **options) -> None:
        decided = case_close_due(as_of=parse_as_of(as_of))
        for case in decided:
            self.stdout.write(f"Case {case.pk}: {case.status}. {case.decision_rule}")
        self.stdout.write(f"{len(decided)} case(s) closed.")

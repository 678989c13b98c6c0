"""manage.py evaluate_due_pilots [--as-of DATETIME]: compile the evidence of each running
pilot whose end date has come (and that has not been evaluated since) and put the decision
it points to before the board."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from governance.management.commands._as_of import parse_as_of
from initiatives.pilots import pilots_evaluate_due


class Command(BaseCommand):
    help = (
        "Evaluate each running pilot whose end date has come against its criteria and open "
        "the board case on the decision the evidence points to."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--as-of", dest="as_of", help="Act as if it were this date-time (ISO 8601)."
        )

    def handle(self, *args, as_of: str | None = None, **options) -> None:
        for evaluation in pilots_evaluate_due(as_of=parse_as_of(as_of)):
            self.stdout.write(
                f"The pilot of {evaluation.plan.service.name}: case {evaluation.case_id} "
                f"({evaluation.get_decision_display().lower()})."
            )

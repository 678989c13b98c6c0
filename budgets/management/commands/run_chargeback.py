"""manage.py run_chargeback YYYY-MM: charge a month now, as the monthly beat job does."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from budgets.services import chargeback_run
from sharedsvc.periods import format_period, parse_period


class Command(BaseCommand):
    help = "Turn every cost pool of a month into charges on the members' budget lines."

    def add_arguments(self, parser) -> None:
        parser.add_argument("period", help="The month to charge, YYYY-MM (it must have ended).")

    def handle(self, *args, period: str, **options) -> None:
        try:
            run = chargeback_run(actor=None, period=parse_period(period))
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"Chargeback {format_period(run.period)}: {run.status}, {run.charges} charges "
            f"totalling {run.total}"
            + (f"; {run.unallocated} in pools with no member to charge" if run.unallocated else "")
            + (" (the month had already been charged)" if run.charges == 0 else "")
        )

"""The demo world, built app by app from the bottom up (`manage.py seed_demo`)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from budgets.demo import build_in_house_estimates, build_money
from clusters.demo import Demo, build_organisation
from governance.demo import build_exits_and_cases
from initiatives.demo import build_initiatives
from servicelevels.demo import build_returns


def build_demo(*, today: datetime.date | None = None, scale: int = 1, money: bool = True) -> Demo:
    """Create whatever of the demo world is missing; reset the demo users' passwords.

    `scale` multiplies departments, clusters and memberships; `money=False` leaves out
    pools, lines and charges (the benchmark charges a month itself).
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        demo = build_organisation(today=today, scale=scale)
        if money:
            build_money(demo, today)
            # Exit requests (and the board cases they open) come after the pools, so their
            # impact has a pool to work from.
            build_exits_and_cases(demo, today)
            build_returns(demo, today)
            # Programmes and pilots last: a pilot's evidence reads the returns and charges.
            build_initiatives(demo, today)
            # Make or buy: an in-house estimate below what the department was charged.
            build_in_house_estimates(demo, today)
    return demo

"""The demo's board (`manage.py seed_demo`): the exit requests of `defection.demo` and the
board's votes on their cases.

- pending: Labour and Citizens' Services' case for Cascadia's desktops has two votes;
- approved: every seat that voted on Health's move to Cascadia approved;
- rejected: the Attorney General's in-house desktops, rejected with reasons;
- lapsed: Social Development's case for Cascadia's HR ran out of time without a quorum;
- open: Transportation takes licence renewals off the citizen portal, with its
  citizen-continuity plan; Education's alternate voted on it for the seat.

All through the services; nothing is duplicated on a second run (the requests are found
again, so nothing is voted twice).
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from clusters.models import Alternate
from clusters.services import alternate_name
from defection.demo import build_exits, deputy_minister_of
from governance.models import Case
from governance.services import case_close_due, vote_cast
from sharedsvc.models import User

VOTES: dict[str, dict[str, tuple[str, str]]] = {
    "pending": {
        "EDUC": ("approve", "The evidence of slow incident resolution is convincing."),
        "ENV": ("reject", "Give Technology Services a quarter to fix it first."),
    },
    "approved": {
        "EDUC": ("approve", "A reasonable case."),
        "ENV": ("approve", ""),
        "JAG": ("approve", "Consistent with the health authorities."),
        "LCS": ("approve", ""),
    },
    "rejected": {
        "EDUC": ("reject", "Running desktops alone costs more than sharing them."),
        "ENV": ("reject", "No evidence that the shared service falls short."),
        "FIN": ("reject", "The business case does not show a saving."),
        "HLTH": ("approve", "Courts have special needs."),
        "LCS": ("abstain", ""),
    },
    "lapsed": {"EDUC": ("abstain", "")},
    "citizen": {"EDUC": ("approve", "The plan keeps renewals going through the move.")},
}
# Education's deputy minister is away: their alternate votes for the seat on this case.
ALTERNATE_VOTES = {"citizen": ("EDUC", "educ.alternate")}


def _votes(
    case: Case, choices: dict[str, tuple[str, str]], stand_ins: dict[str, User] | None = None
) -> None:
    for code, (choice, reason) in choices.items():
        case.refresh_from_db()
        if not case.is_open:
            break  # decided early: the remaining seats could no longer turn it
        voter = (stand_ins or {}).get(code) or deputy_minister_of(code)
        vote_cast(actor=voter, case=case, choice=choice, reason=reason)


def _alternate(demo, code: str, username: str, today: datetime.date) -> User:
    """Name `username` the alternate for `code`'s seat over the coming month (once)."""
    department = demo.departments[code]
    user = User.objects.get(username=username)
    if not Alternate.objects.filter(department=department, user=user).exists():
        alternate_name(
            actor=deputy_minister_of(code),
            department=department,
            user=user,
            starts_on=today,
            ends_on=today + datetime.timedelta(days=30),
            today=today,
        )
    return user


def build_exits_and_cases(demo, today: datetime.date) -> None:
    """The demo's exit requests (`defection.demo.build_exits`), then the board's votes on
    the cases they opened, and the lapsed case closed."""
    for key, request in build_exits(demo, today).items():
        case = Case.objects.get(exit_request=request)
        stand_ins = {}
        if key in ALTERNATE_VOTES:
            code, username = ALTERNATE_VOTES[key]
            stand_ins[code] = _alternate(demo, code, username, today)
        _votes(case, VOTES[key], stand_ins)
        if key == "lapsed":
            # Its fortnight ran out without a quorum.
            now = timezone.now()
            Case.objects.filter(pk=case.pk).update(
                opened_at=now - datetime.timedelta(days=16),
                closes_at=now - datetime.timedelta(days=2),
            )
            case_close_due(actor=demo.actor, as_of=now)

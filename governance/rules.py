"""The gate of the board.

- Reading a case: `Case.objects.visible_to(user)` (with its exit request).
- Each seat's vote and the tally: `governance.view_case_votes` (object: the case), the
  same rule as `votes_shown_condition`, which `Vote.objects.visible_to` filters by, so the
  page and the API show them to the same people.
- Voting: `governance.add_vote`, for whoever holds a board seat today (the department's
  `deputy_minister`, not the role alone, or its alternate while named); `vote_cast` then
  finds the seat on the case and refuses a recused one (for its alternate too). Nobody
  writes a case directly.
"""

from __future__ import annotations

import datetime

import rules

from clusters.rules import board_seat_departments, holds_board_seat
from governance.models import Case, votes_shown_condition
from sharedsvc.rules import acts_for_department


def seat_department_ids(user, today: datetime.date | None = None) -> set[int]:
    """The departments whose seat this user holds on `today` (by default today), as its
    deputy minister or its alternate: none for anyone but a department's people (no
    query), one query for them."""
    if not acts_for_department(user):
        return set()
    return set(board_seat_departments(user, today).values_list("pk", flat=True))


@rules.predicate
def sees_case_votes(user, case) -> bool:
    """Reads the `votes_shown` annotation of `Case.objects.with_votes_shown(user)` when the
    case has it; otherwise asks the database once."""
    if case is None:
        return False
    annotated = case.__dict__.get("votes_shown")
    if annotated is not None:
        return bool(annotated)
    return Case.objects.filter(pk=case.pk).filter(votes_shown_condition(user)).exists()


rules.add_perm("governance.add_vote", holds_board_seat)
rules.add_perm("governance.view_case_votes", sees_case_votes)

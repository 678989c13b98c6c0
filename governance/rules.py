"""The gate of the board.

- Reading a case: `Case.objects.visible_to(user)` (with its exit request).
- Each seat's vote and the tally: `governance.view_case_votes` (object: the case), the
  same rule as `votes_shown_condition`, which `Vote.objects.visible_to` filters by, so the
  page and the API show them to the same people.
- Voting: `governance.add_vote`, for whoever holds a board seat today (the department's
  `deputy_minister`, not the role alone); `vote_cast` then finds the seat on the case and
  refuses a recused one. Nobody writes a case directly.
"""

from __future__ import annotations

import rules

from clusters.rules import board_seat_departments, holds_board_seat
from governance.models import Case, votes_shown_condition
from sharedsvc.rules import is_deputy_minister


def seat_department_ids(user) -> set[int]:
    """The departments whose seat this user holds today (none for anyone but a seated
    deputy minister; one query for a deputy minister)."""
    if not is_deputy_minister(user):
        return set()
    return set(board_seat_departments(user).values_list("pk", flat=True))


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

"""The gate of the right to leave.

- Giving and withdrawing notice: the department's own managers and deputy minister, and
  administrators (object: the department that leaves).
- Reading a request at all: `ExitRequest.objects.visible_to(user)`.
- Reading it whole (justification, impact, the evidence of a service-quality request):
  `defection.view_exitrequest_whole` (object: the request), the same condition as
  `exit_request_whole_condition`, so lists, pages, API fields and emails agree. The
  destination provider sees a request only in part.
"""

from __future__ import annotations

import rules

from clusters.rules import owns_department
from defection.models import ExitRequest, exit_request_whole_condition
from sharedsvc.rules import acts_for_department, is_administrator


@rules.predicate
def no_department_named(user, department) -> bool:
    """Asked without a department (the API's write gate before the body is read): the
    department's roles may try; the service asks again with the department."""
    return department is None


@rules.predicate
def sees_exit_request_whole(user, exit_request) -> bool:
    """Reads the `seen_whole` annotation of `ExitRequest.objects.with_seen_whole(user)`
    when the request has it (no query per row); otherwise asks the database once."""
    if exit_request is None:
        return False
    annotated = exit_request.__dict__.get("seen_whole")
    if annotated is not None:
        return bool(annotated)
    return (
        ExitRequest.objects.filter(pk=exit_request.pk)
        .filter(exit_request_whole_condition(user))
        .exists()
    )


can_give_notice = is_administrator | (acts_for_department & (no_department_named | owns_department))
rules.add_perm("defection.add_exitrequest", can_give_notice)
rules.add_perm("defection.withdraw_exitrequest", can_give_notice)
rules.add_perm("defection.view_exitrequest_whole", sees_exit_request_whole)

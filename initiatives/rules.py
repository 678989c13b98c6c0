"""The gate of programmes.

- Reading a programme and its answers: `Programme.objects.visible_to` (every signed-in
  user); its board cases: the programme subject (`initiatives.subjects`).
- Proposing one: `initiatives.add_programme`, administrators and deputy ministers;
  its sponsor: `initiatives.sponsor_programme`, a deputy minister.
- Answering for a target department: `initiatives.answer_commitment` (object: the
  commitment), the department's managers and deputy minister, and administrators.
"""

from __future__ import annotations

import rules

from clusters.rules import acts_for
from sharedsvc.rules import is_administrator, is_deputy_minister


@rules.predicate
def answers_for(user, commitment) -> bool:
    return commitment is not None and acts_for(user, commitment.department_id)


rules.add_perm("initiatives.add_programme", is_administrator | is_deputy_minister)
rules.add_perm("initiatives.sponsor_programme", is_deputy_minister)
rules.add_perm("initiatives.answer_commitment", answers_for)

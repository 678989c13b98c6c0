"""The gate of programmes.

- Reading a programme and its answers: `Programme.objects.visible_to` (every signed-in
  user); its board cases: the programme subject (`initiatives.subjects`).
- Proposing one: `initiatives.add_programme`, administrators and deputy ministers;
  its sponsor: `initiatives.sponsor_programme`, a deputy minister.
- Answering for a target department: `initiatives.answer_commitment` (object: the
  commitment), the department's managers and deputy minister, and administrators.
- A pilot's plan is public; writing one (`initiatives.add_pilotplan`) and asking for its
  evaluation before its end date (`initiatives.evaluate_pilot`): administrators. Its
  evidence and its board cases: `initiatives.view_pilot_evidence` (object: the plan), the
  queryset form `pilot_evidence_condition` (`PilotPlan.objects.evidence_visible_to`).
"""

from __future__ import annotations

import rules

from clusters.rules import acts_for
from initiatives.models import PilotPlan, pilot_evidence_condition
from sharedsvc.rules import is_administrator, is_deputy_minister


@rules.predicate
def answers_for(user, commitment) -> bool:
    return commitment is not None and acts_for(user, commitment.department_id)


rules.add_perm("initiatives.add_programme", is_administrator | is_deputy_minister)
rules.add_perm("initiatives.sponsor_programme", is_deputy_minister)
rules.add_perm("initiatives.answer_commitment", answers_for)


# Pilots -----------------------------------------------------------------------------------


@rules.predicate
def reads_pilot_evidence(user, plan) -> bool:
    if plan is None:
        return False
    return PilotPlan.objects.filter(pk=plan.pk).filter(pilot_evidence_condition(user)).exists()


rules.add_perm("initiatives.add_pilotplan", is_administrator)
rules.add_perm("initiatives.evaluate_pilot", is_administrator)
rules.add_perm("initiatives.view_pilot_evidence", reads_pilot_evidence)

"""The subject of a pilot case (`governance.subjects`): should the board take the decision
proposed on a pilot's evidence (go live, extend, stop)?

- Parties: the departments that host a provider of one of the pilot's clusters are
  recused (they would judge their own pilot).
- Readers: whoever reads the pilot's evidence (`PilotPlan.objects.evidence_visible_to`).
- Decided: approved applies the decision (`initiatives.pilots.pilot_decision_apply`);
  rejected or lapsed leaves the pilot running for an administrator to put another one.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from governance.models import Case, CaseKind, RecusalReason
from initiatives.models import PilotDecisionKind, PilotEvaluation, PilotPlan
from initiatives.pilot_evidence import evidence_seen_by
from initiatives.pilots import pilot_decision_apply
from notifications.services import notify
from sharedsvc.models import User


def evaluation_of(case: Case) -> PilotEvaluation:
    """The case's evaluation, through the relations the board's pages select with the case
    (`PilotSubject.related`); a case fetched without them costs a query or two."""
    return case.pilot_evaluation  # type: ignore[attr-defined]


def decision_words(evaluation: PilotEvaluation) -> str:
    service = evaluation.plan.service.name
    if evaluation.decision == PilotDecisionKind.GO_LIVE:
        return f"take the pilot of {service} live"
    if evaluation.decision == PilotDecisionKind.EXTEND:
        return f"extend the pilot of {service} to {evaluation.new_ends_on:%-d %B %Y}"
    return f"stop the pilot of {service}, its clusters winding down on {evaluation.wind_down_on:%-d %B %Y}"


def describe(evaluation: PilotEvaluation) -> str:
    """The decision and each criterion, met or not. The benefit's figure is a total over
    the members' private figures: a notification says only whether it is met; the case
    page shows it to those who may see it."""
    lines = [
        f"Proposed: {decision_words(evaluation)}.",
        f"Evidence as of {evaluation.as_of:%-d %B %Y}:",
    ]
    for criterion in evaluation.evidence["criteria"]:
        measured = (
            ""
            if criterion["criterion"] == "benefit"
            else f" (measured {criterion['measured'] or 'nothing'})"
        )
        lines.append(
            f"- {criterion['label']}, {criterion['target']}: {'met' if criterion['met'] else 'not met'}{measured}"
        )
    return "\n".join(lines) + "\n"


class PilotSubject:
    kind: str = CaseKind.PILOT
    summary_template = "initiatives/_pilot_case_summary.html"
    # What `title` and `page_context` read, fetched with the cases (`governance.subjects`).
    related: tuple[str, ...] = ("pilot_evaluation__plan__service",)

    def parties(self, case: Case) -> dict[int, list[str]]:
        evaluation = evaluation_of(case)
        hosts = evaluation.plan.plan_clusters.filter(
            cluster__provider__host_department__isnull=False
        ).values_list("cluster__provider__host_department_id", flat=True)
        return {host: [RecusalReason.PILOT_PROVIDER_HOST] for host in set(hosts)}

    def visible(self, user: Any) -> Q:
        return Q(pilot_evaluation__plan__in=PilotPlan.objects.evidence_visible_to(user))

    def notify(
        self,
        case: Case,
        recipients: Iterable[User],
        *,
        subject: str,
        kind: str,
        link: str,
        footer: str = "",
    ) -> None:
        notify(
            recipients=recipients,
            kind=kind,
            subject=subject,
            body=f"Case {case.pk}.\n{describe(evaluation_of(case))}{footer}",
            link=link,
        )

    def recipients_of_decision(self, case: Case) -> Iterable[User]:
        """The pilot's providers' managers and its members' people (those who read its
        evidence beside the board)."""
        plan = evaluation_of(case).plan
        clusters = plan.plan_clusters.values("cluster_id")
        return User.objects.filter(
            Q(provider__clusters__in=clusters) | Q(department__memberships__cluster__in=clusters),
            is_active=True,
        ).distinct()

    def decided(self, case: Case, *, actor: Any, now: datetime.datetime) -> None:
        pilot_decision_apply(evaluation_of(case), status=case.status, actor=actor, now=now)

    def title(self, case: Case) -> str:
        words = decision_words(evaluation_of(case))
        return words[:1].upper() + words[1:]

    def page_context(self, case: Case, user: Any, *, record: bool = False) -> dict[str, Any]:
        evaluation = evaluation_of(case)
        return {
            "evaluation": evaluation,
            "plan": evaluation.plan,
            "proposed": decision_words(evaluation),
            "evidence": evidence_seen_by(user, evaluation.evidence),
            "record": record,
        }


PILOT_SUBJECT = PilotSubject()

"""The subject of a programme case (`governance.subjects`): should this programme become
active?

- Parties: none are recused; a programme is the whole board's business.
- Readers: whoever reads the programme (every signed-in user).
- Decided: approved makes the programme active; rejected makes it rejected; lapsed
  leaves it proposed, to be put to the board again.
- Its pages: the programme (name linked to its page, service, sponsor, goal, target date)
  and each target department's answer (`initiatives/_case_summary.html`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from governance.models import Case, CaseKind, CaseStatus
from initiatives.models import Commitment, Programme, ProgrammeStatus
from notifications.services import notify
from sharedsvc.models import User
from sharedsvc.services import validated_save

AFTER_DECISION = {
    CaseStatus.APPROVED: ProgrammeStatus.ACTIVE,
    CaseStatus.REJECTED: ProgrammeStatus.REJECTED,
    CaseStatus.LAPSED: ProgrammeStatus.PROPOSED,
}


def programme_of(case: Case) -> Programme:
    return Programme.objects.select_related("service", "sponsor").get(decisions__case=case)


class ProgrammeSubject:
    kind: str = CaseKind.PROGRAMME
    summary_template: str = "initiatives/_case_summary.html"
    # What `title` and `page_context` read, fetched with the cases (`governance.subjects`).
    related: tuple[str, ...] = (
        "programme_decision__programme__service",
        "programme_decision__programme__sponsor",
        "programme_decision__programme__proposed_by",
    )
    title_related: tuple[str, ...] = ("programme_decision__programme",)

    def parties(self, case: Case) -> dict[int, list[str]]:
        return {}

    def visible(self, user: Any) -> Q:
        return Q(programme_decision__programme__in=Programme.objects.visible_to(user))

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
            body=f"Case {case.pk}.\n{describe(programme_of(case))}{footer}",
            link=link,
        )

    def recipients_of_decision(self, case: Case) -> Iterable[User]:
        """The sponsor, whoever proposed it, and the target departments' people."""
        programme = programme_of(case)
        departments = programme.commitments.values("department_id")
        return User.objects.filter(
            Q(pk__in=[programme.sponsor_id, programme.proposed_by_id])
            | Q(department_id__in=departments),
            is_active=True,
        )

    def decided(self, case: Case, *, actor: Any, now: datetime.datetime) -> None:
        programme = Programme.objects.select_for_update().get(decisions__case=case)
        programme.status = AFTER_DECISION[CaseStatus(case.status)]
        validated_save(programme, actor=actor)

    def title(self, case: Case) -> str:
        programme = _programme(case)
        return f"make programme {programme.code} active ({programme.name})"

    def page_context(self, case: Case, user: Any, *, record: bool = False) -> dict[str, Any]:
        """The programme and each target department's answer and progress today: one
        query (the commitments), the programme coming with the case (`related`). Every
        signed-in reader of the case reads the programme and its answers."""
        programme = _programme(case)
        today = timezone.localdate()
        commitments = (
            Commitment.objects.visible_to(user)
            .with_joined()
            .filter(programme=programme)
            .select_related("department")
            .order_by("department__code")
        )
        return {
            "programme": programme,
            "programme_url": reverse("initiatives:programme", args=[programme.code]),
            "commitments": [
                (c, c.progress_on(today, joined=c.joined_on_time)) for c in commitments
            ],
            "today": today,
        }


def _programme(case: Case) -> Programme:
    """The case's programme, through the relations the board's pages select with the case
    (`ProgrammeSubject.related`); a case fetched without them costs a query or two."""
    return case.programme_decision.programme  # type: ignore[attr-defined]


def describe(programme: Programme) -> str:
    return (
        f"Programme {programme.code}: {programme.name}\n"
        f"Service: {programme.service.name}\n"
        f"Sponsor: {programme.sponsor.get_full_name() or programme.sponsor.get_username()}\n"
        f"Target date: {programme.target_on:%-d %B %Y}\n"
        f"Goal: {programme.goal}\n"
    )


PROGRAMME_SUBJECT = ProgrammeSubject()

"""The subject of a programme case (`governance.subjects`): should this programme become
active?

- Parties: none are recused; a programme is the whole board's business.
- Readers: whoever reads the programme (every signed-in user).
- Decided: approved makes the programme active; rejected makes it rejected; lapsed
  leaves it proposed, to be put to the board again.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from governance.models import Case, CaseKind, CaseStatus
from initiatives.models import Programme, ProgrammeStatus
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
        programme = programme_of(case)
        return f"make programme {programme.code} active ({programme.name})"


def describe(programme: Programme) -> str:
    return (
        f"Programme {programme.code}: {programme.name}\n"
        f"Service: {programme.service.name}\n"
        f"Sponsor: {programme.sponsor.get_full_name() or programme.sponsor.get_username()}\n"
        f"Target date: {programme.target_on:%d %B %Y}\n"
        f"Goal: {programme.goal}\n"
    )


PROGRAMME_SUBJECT = ProgrammeSubject()

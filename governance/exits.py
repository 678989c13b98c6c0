"""The subject of an exit case (`governance.subjects`): a department asking to leave to a
provider other than the PSOA.

- Parties, recused: the requesting department, the host of the current cluster's provider
  and the host of the proposed provider.
- Readers: those who read the exit request (`ExitRequest.objects.visible_to`).
- Decided: approved schedules the request's exit; rejected or lapsed closes it, and the
  department stays. The department and both providers hear the decision.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.utils import timezone

from defection.models import ExitRequest, ExitStatus
from defection.services import describe, exit_request_approve, exit_request_close, notify_readers
from governance.models import Case, CaseKind, CaseStatus, RecusalReason
from sharedsvc.models import User


class ExitSubject:
    kind: str = CaseKind.EXIT

    def parties(self, case: Case) -> dict[int, list[str]]:
        return exit_parties(_request(case))

    def visible(self, user: Any) -> Q:
        return Q(exit_request__in=ExitRequest.objects.visible_to(user))

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
        def body(request: ExitRequest, *, whole: bool) -> str:
            return f"Case {case.pk}.\n" + describe(request, whole=whole)

        notify_readers(
            _request(case),
            recipients,
            subject=subject,
            kind=kind,
            link=link,
            body=body,
            footer=footer,
        )

    def recipients_of_decision(self, case: Case) -> Iterable[User]:
        """The requester's department and both providers; each reads as much of the
        request as it may (the destination provider: in part)."""
        request = _request(case)
        providers = [request.from_cluster.provider_id]
        proposed = request.to_cluster.provider_id if request.to_cluster else request.to_provider_id
        if proposed:
            providers.append(proposed)
        recipients = User.objects.filter(
            is_active=True, department_id=request.department_id
        ) | User.objects.filter(is_active=True, provider_id__in=providers)
        if request.requested_by is not None:
            recipients = recipients | User.objects.filter(pk=request.requested_by.pk)
        return recipients.distinct()

    def decided(self, case: Case, *, actor: Any, now: datetime.datetime) -> None:
        request = _request(case)
        if case.status == CaseStatus.APPROVED:
            exit_request_approve(
                actor=actor, exit_request=request, decided_on=timezone.localdate(now)
            )
        else:
            exit_request_close(
                actor=actor,
                exit_request=request,
                status=ExitStatus.LAPSED
                if case.status == CaseStatus.LAPSED
                else ExitStatus.REJECTED,
            )
        request.refresh_from_db()

    def title(self, case: Case) -> str:
        request = _request(case)
        return f"{request.department.code} asks to leave {request.from_cluster.code}"


def _request(case: Case) -> ExitRequest:
    assert case.exit_request is not None  # the database holds it (case_exit_request_iff_exit)
    return case.exit_request


def exit_parties(exit_request: ExitRequest) -> dict[int, list[str]]:
    """Departments that are parties to an exit case, with why."""
    parties: dict[int, list[str]] = {exit_request.department_id: [RecusalReason.REQUESTER]}
    current_host = exit_request.from_cluster.provider.host_department_id
    if current_host:
        parties.setdefault(current_host, []).append(RecusalReason.CURRENT_PROVIDER_HOST)
    proposed = (
        exit_request.to_cluster.provider if exit_request.to_cluster else exit_request.to_provider
    )
    if proposed is not None and proposed.host_department_id:
        parties.setdefault(proposed.host_department_id, []).append(
            RecusalReason.PROPOSED_PROVIDER_HOST
        )
    return parties


EXIT_SUBJECT = ExitSubject()

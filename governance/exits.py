"""The subject of an exit case (`governance.subjects`): a department asking to leave to a
provider other than the PSOA.

- Parties, recused: the requesting department, the host of the current cluster's provider
  and the host of the proposed provider.
- Readers: those who read the exit request (`ExitRequest.objects.visible_to`).
- Decided: approved schedules the request's exit; rejected or lapsed closes it, and the
  department stays. The department and both providers hear the decision.
- Its pages: the request whole or in part, as `defection.view_exitrequest_whole` says,
  with its impact and, on the case page, the breaches behind a departure for service
  quality (`governance/_exit_summary.html`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from defection.models import ExitRequest, ExitStatus, Reason
from defection.services import (
    SEEN_IN_PART,
    describe,
    exit_request_approve,
    exit_request_close,
    notify_readers,
)
from governance.models import Case, CaseKind, CaseStatus, RecusalReason
from servicelevels.selectors import persistent_breaches
from sharedsvc.models import User
from sharedsvc.periods import parse_period


class ExitSubject:
    kind: str = CaseKind.EXIT
    summary_template: str = "governance/_exit_summary.html"
    # What `title` and `page_context` read, fetched with the cases (`governance.subjects`).
    related: tuple[str, ...] = (
        "exit_request__department",
        "exit_request__requested_by",
        "exit_request__from_cluster__service",
        "exit_request__from_cluster__provider",
        "exit_request__to_cluster__provider",
        "exit_request__to_provider",
    )
    title_related: tuple[str, ...] = ("exit_request__department", "exit_request__from_cluster")

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

    def page_context(self, case: Case, user: Any, *, record: bool = False) -> dict[str, Any]:
        """The request, whole or in part as `defection.view_exitrequest_whole` says, with
        its impact and, on the case page (not the record), the breaches behind a departure
        for service quality: one query for those, none otherwise."""
        exit_request = _request(case)
        annotated = case.__dict__.get("request_seen_whole")
        if annotated is not None:  # `CaseQuerySet.with_request_seen_whole`: no query
            exit_request.seen_whole = annotated  # type: ignore[attr-defined]
        seen_whole = user.has_perm("defection.view_exitrequest_whole", exit_request)
        shows_evidence = not record and seen_whole and exit_request.reason == Reason.SERVICE_QUALITY
        return {
            "exit_request": exit_request,
            "exit_request_url": f"/exit-requests/{exit_request.pk}/",
            "seen_whole": seen_whole,
            "seen_in_part_message": SEEN_IN_PART,
            "impact": exit_impact_view(exit_request.impact if seen_whole else None),
            "shows_evidence": shows_evidence,
            "breaches": (
                persistent_breaches(
                    cluster_id=exit_request.from_cluster_id,
                    department_id=exit_request.department_id,
                )
                if shows_evidence
                else []
            ),
        }


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


# The impact kept with the request, as the pages show it --------------------------------


@dataclass
class ImpactRow:
    department: str
    usage_units: int | None
    before: Decimal | None
    after: Decimal | None

    @property
    def change(self) -> Decimal | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _percent(ratio: Any) -> str | None:
    number = _decimal(ratio)
    return None if number is None else f"{number * 100:.0f}%"


def _unit_cost(value: Any) -> str | None:
    """A cost per unit to four places, without trailing zeros past the cents."""
    number = _decimal(value)
    if number is None:
        return None
    text = f"{number:,.4f}".rstrip("0")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def exit_impact_view(impact: dict[str, Any] | None) -> dict[str, Any]:
    """The impact kept with the request, as the page shows it."""
    impact = impact or {}
    rows = [
        ImpactRow(
            department=member["department"],
            usage_units=member.get("usage_units"),
            before=_decimal(member.get("before")),
            after=_decimal(member.get("after")),
        )
        for member in impact.get("members", [])
    ]
    return {
        "known": bool(impact.get("period")),
        "period": parse_period(impact["period"]) if impact.get("period") else None,
        "pool": _decimal(impact.get("pool")),
        "pool_after": _decimal(impact.get("pool_after")),
        "fixed_share": _percent(impact.get("fixed_cost_ratio")),
        "unit_cost_before": _unit_cost(impact.get("unit_cost_before")),
        "unit_cost_after": _unit_cost(impact.get("unit_cost_after")),
        "rows": rows,
    }


EXIT_SUBJECT = ExitSubject()

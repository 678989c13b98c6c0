"""The demo's exit requests and board cases (`manage.py seed_demo`), one in each status.

- completed: Environment's move from Technology Services payroll to the PSOA's, a year
  after the demo starts (the record of a move that the memberships already show);
- scheduled: Community Living moves its payroll to the PSOA (the right to leave: nobody votes);
- pending the board, with an open case: Labour and Citizens' Services wants Cascadia's desktops
  (Technology and Corporate Services hosts the current provider, so its seat is recused);
- approved: Health's financial operations go to Cascadia (the exit is scheduled);
- rejected: the Attorney General asked to run desktops in-house; the board said no;
- lapsed: Social Development asked for Cascadia's HR; too few seats voted in time;
- withdrawn: Education gave notice on payroll, then withdrew it.

All through the services, so the audit trail, seats and recusals are real. Found again by
department and cluster on a second run, so nothing is duplicated. The board's part (votes,
closing the lapsed case) is `governance.demo.build_exits_and_cases`, which calls
`build_exits` and then votes: defection does not import governance.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q

from clusters.models import Membership
from defection.models import Destination, ExitRequest, ExitStatus, Reason
from defection.selectors import exit_impact
from defection.services import exit_request_submit, exit_request_withdraw, exit_requests_complete
from sharedsvc.audit import audit_context
from sharedsvc.models import User
from sharedsvc.services import validated_save


def deputy_minister_of(code: str) -> User | None:
    return User.objects.filter(username=f"{code.lower()}.dm").first()


def _exists(demo, department: str, cluster: str) -> bool:
    return ExitRequest.objects.filter(
        department=demo.departments[department], from_cluster=demo.clusters[cluster]
    ).exists()


def _submit(demo, department: str, cluster: str, **kwargs: Any) -> ExitRequest | None:
    if _exists(demo, department, cluster):
        return None
    request = exit_request_submit(
        actor=deputy_minister_of(department) or demo.actor,
        department=demo.departments[department],
        from_cluster=demo.clusters[cluster],
        **kwargs,
    )
    demo.count("exit requests")
    return request


def build_exits(demo, today: datetime.date) -> dict[str, ExitRequest]:
    """The exit requests, one in each status. Returns the requests submitted now that went
    to the board and wait for its votes ("pending", "approved", "rejected", "lapsed", and
    "citizen", a service for citizens with its plan); none on a second run."""
    _completed(demo)
    _completed_in_house(demo)
    _submit(
        demo,
        "CLBC",
        "PAY-TECH",
        destination=Destination.CLUSTER,
        to_cluster=demo.clusters["PAY-PSOA"],
        reason=Reason.COST,
        justification="The PSOA's payroll costs less per employee, and we are a small agency.",
    )
    submitted = {
        "pending": _submit(
            demo,
            "LCS",
            "IT-TECH",
            destination=Destination.CLUSTER,
            to_cluster=demo.clusters["IT-CASC"],
            reason=Reason.SERVICE_QUALITY,
            justification="Incidents take days to resolve; our front-line offices cannot wait.",
        ),
        "approved": _submit(
            demo,
            "HLTH",
            "FIN-PSOA",
            destination=Destination.CLUSTER,
            to_cluster=demo.clusters["FIN-CASC"],
            reason=Reason.STRATEGIC,
            justification="Health authorities already use Cascadia; one supplier simplifies our books.",
        ),
        "rejected": _submit(
            demo,
            "JAG",
            "IT-TECH",
            destination=Destination.IN_HOUSE,
            reason=Reason.OTHER,
            justification="Court systems need desk-side support we would rather run ourselves.",
        ),
        "lapsed": _submit(
            demo,
            "SDPR",
            "HR-PSOA",
            destination=Destination.PROVIDER,
            to_provider=demo.providers["CASCADIA"],
            reason=Reason.COST,
            justification="Cascadia quoted 12% less for the same HR services.",
        ),
        # A service for citizens: the request comes with its citizen-continuity plan.
        "citizen": _submit(
            demo,
            "TRAN",
            "PORTAL-PILOT",
            destination=Destination.IN_HOUSE,
            reason=Reason.STRATEGIC,
            justification="Driver licensing goes back on our own site, beside the road reports.",
            citizen_impact=(
                "Licence renewals move from the citizen portal to the ministry's own site; "
                "the portal's links forward there for a year."
            ),
            transition_on=today + datetime.timedelta(days=21),
            records_and_cases=(
                "Renewal records are copied over the weekend before the move; renewals open "
                "on the day are finished on the portal."
            ),
            contact="The ministry's licensing desk, 1-800-555-0142, weekdays 8 to 6.",
        ),
    }
    if (
        withdrawn := _submit(
            demo,
            "EDUC",
            "PAY-PSOA",
            destination=Destination.IN_HOUSE,
            reason=Reason.STRATEGIC,
            justification="We considered running payroll with the school districts' system.",
        )
    ) is not None:
        exit_request_withdraw(
            actor=deputy_minister_of("EDUC") or demo.actor, exit_request=withdrawn
        )
    return {key: request for key, request in submitted.items() if request is not None}


def _completed_in_house(demo) -> None:
    """The record of Community Living's return to running its own HR, a year in, which
    its membership already shows (it has been in no HR cluster since)."""
    if _exists(demo, "CLBC", "HR-PSOA"):
        return
    old = (
        Membership.objects.filter(
            department=demo.departments["CLBC"], cluster=demo.clusters["HR-PSOA"]
        )
        .filter(~Q(leaves_on=None))
        .first()
    )
    if old is None:
        return
    with audit_context(actor=demo.actor):
        validated_save(
            ExitRequest(
                department=old.department,
                membership=old,
                from_cluster=old.cluster,
                destination=Destination.IN_HOUSE,
                reason=Reason.STRATEGIC,
                justification="Our HR needs are small and particular to community living.",
                leave_on=old.leaves_on,
                status=ExitStatus.SCHEDULED,
                needs_board=True,
                impact=exit_impact(cluster=old.cluster, department_id=old.department_id),
                requested_by=deputy_minister_of("CLBC") or demo.actor,
                requested_on=old.leaves_on - datetime.timedelta(days=old.cluster.notice_days),
            ),
            actor=demo.actor,
        )
        exit_requests_complete(actor=demo.actor)
    demo.count("exit requests")


def _completed(demo) -> None:
    """The record of Environment's past move, which the memberships already show."""
    if _exists(demo, "ENV", "PAY-TECH"):
        return
    old = (
        Membership.objects.filter(
            department=demo.departments["ENV"], cluster=demo.clusters["PAY-TECH"]
        )
        .filter(~Q(leaves_on=None))
        .first()
    )
    new = Membership.objects.filter(
        department=demo.departments["ENV"], cluster=demo.clusters["PAY-PSOA"]
    ).first()
    if old is None or new is None:
        return
    with audit_context(actor=demo.actor):
        validated_save(
            ExitRequest(
                department=old.department,
                membership=old,
                from_cluster=old.cluster,
                destination=Destination.CLUSTER,
                to_cluster=new.cluster,
                reason=Reason.COST,
                justification="The PSOA's payroll was cheaper per employee.",
                leave_on=old.leaves_on,
                status=ExitStatus.SCHEDULED,
                needs_board=False,
                impact=exit_impact(cluster=old.cluster, department_id=old.department_id),
                new_membership=new,
                requested_by=deputy_minister_of("ENV") or demo.actor,
                requested_on=old.leaves_on - datetime.timedelta(days=old.cluster.notice_days),
            ),
            actor=demo.actor,
        )
        exit_requests_complete(actor=demo.actor)
    demo.count("exit requests")

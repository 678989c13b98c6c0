"""Pilots: plan one for a `pilot` service, evaluate it against its criteria (from its end
date, or earlier when an administrator asks) and put a decision to the board: go live,
extend (to a new end date) or stop (winding its clusters down). What an approved decision
does is `pilot_decision_apply`, called by the pilot subject (`initiatives.pilot_subject`)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from clusters.models import Cluster, Lifecycle, Membership, Service
from governance.models import Case, CaseKind, CaseStatus
from governance.services import case_duration, case_open_of
from initiatives.models import (
    PilotCluster,
    PilotDecisionKind,
    PilotEvaluation,
    PilotPlan,
    PilotStatus,
)
from initiatives.pilot_evidence import pilot_evidence
from notifications.models import NotificationKind
from notifications.services import notify
from sharedsvc.audit import audit_context
from sharedsvc.errors import Conflict, Forbidden
from sharedsvc.models import User
from sharedsvc.services import validated_save

MAY_NOT_PLAN = "Only administrators plan pilots."
MAY_NOT_EVALUATE = "Only administrators ask for a pilot's evaluation."
NOT_A_PILOT_SERVICE = "{service} is {lifecycle}, not in pilot: only a pilot service has a plan."
ALREADY_PLANNED = "{service} has a pilot plan already: there is one plan per pilot service."
NO_CLUSTERS = "Choose at least one cluster of the service."
CLUSTER_OF_ANOTHER_SERVICE = "{codes}: not clusters of {service}."
COMPLIANCE_OUT_OF_RANGE = "Enter a compliance rate from 0 to 100 per cent."
COST_OUT_OF_RANGE = "Enter a maximum cost per unit of more than 0."
MEMBERS_OUT_OF_RANGE = "A pilot needs at least 1 member department."
BENEFIT_OUT_OF_RANGE = "Enter a minimum benefit of 0 or more."
ENDS_BEFORE_START = "The pilot must end after it starts."
NOT_RUNNING = "The pilot of {service} is {status}: only a running pilot is evaluated."
ALREADY_WITH_THE_BOARD = "The pilot of {service} is already with the board (case {case})."
NOT_DUE = "The pilot of {service} ends on {ends:%-d %B %Y}: it is evaluated from then."
UNKNOWN_DECISION = "Choose go live, extend or stop."
NEW_END_NEEDED = "Give the new end date of the extended pilot."
NEW_END_TOO_EARLY = (
    "The new end date must be after the current one ({ends:%-d %B %Y}) and after today."
)
WIND_DOWN_TOO_EARLY = (
    "The members must have their notice ({days} days) after the board's decision: wind the "
    "pilot down on {earliest:%-d %B %Y} or later."
)


def pilot_plan_create(
    *,
    actor: Any,
    service: Service,
    clusters: Iterable[Cluster],
    starts_on: datetime.date,
    ends_on: datetime.date,
    min_compliance_rate: Decimal,
    max_cost_per_unit: Decimal,
    min_members: int,
    min_benefit: Decimal = Decimal("0"),
) -> PilotPlan:
    """Plan the pilot of a `pilot` service: its clusters, its dates and its criteria."""
    if actor is not None and not actor.has_perm("initiatives.add_pilotplan"):
        raise Forbidden(MAY_NOT_PLAN)
    chosen = sorted(set(clusters), key=lambda c: c.code)
    errors: dict[str, str] = {}
    if service.lifecycle != Lifecycle.PILOT:
        errors["service"] = NOT_A_PILOT_SERVICE.format(
            service=service.name, lifecycle=service.get_lifecycle_display().lower()
        )
    elif PilotPlan.objects.filter(service=service).exists():
        errors["service"] = ALREADY_PLANNED.format(service=service.name)
    if not chosen:
        errors["clusters"] = NO_CLUSTERS
    elif others := [c.code for c in chosen if c.service_id != service.pk]:
        errors["clusters"] = CLUSTER_OF_ANOTHER_SERVICE.format(
            codes=", ".join(others), service=service.name
        )
    if ends_on <= starts_on:
        errors["ends_on"] = ENDS_BEFORE_START
    if not Decimal("0") <= min_compliance_rate <= Decimal("100"):
        errors["min_compliance_rate"] = COMPLIANCE_OUT_OF_RANGE
    if max_cost_per_unit <= 0:
        errors["max_cost_per_unit"] = COST_OUT_OF_RANGE
    if min_members < 1:
        errors["min_members"] = MEMBERS_OUT_OF_RANGE
    if min_benefit < 0:
        errors["min_benefit"] = BENEFIT_OUT_OF_RANGE
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), audit_context(actor=actor):
        plan = validated_save(
            PilotPlan(
                service=service,
                starts_on=starts_on,
                ends_on=ends_on,
                min_compliance_rate=min_compliance_rate,
                max_cost_per_unit=max_cost_per_unit,
                min_members=min_members,
                min_benefit=min_benefit,
            ),
            actor=actor,
        )
        PilotCluster.objects.bulk_create([PilotCluster(plan=plan, cluster=c) for c in chosen])
    return plan


def _notice_days(plan: PilotPlan) -> int:
    return max(
        (pc.cluster.notice_days for pc in plan.plan_clusters.select_related("cluster")),
        default=0,
    )


def earliest_wind_down(plan: PilotPlan, closes_at: datetime.datetime) -> datetime.date:
    """The first day the pilot's memberships may end if the board decides by `closes_at`:
    every cluster's notice after the latest possible decision."""
    return timezone.localdate(closes_at) + datetime.timedelta(days=_notice_days(plan))


def pilot_evaluate(
    *,
    actor: Any,
    plan: PilotPlan,
    decision: str | None = None,
    new_ends_on: datetime.date | None = None,
    wind_down_on: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> PilotEvaluation:
    """Compile the evidence against the pilot's criteria and open the board case on a
    decision: the one given, or go live when every criterion is met and stop otherwise.
    `actor=None` is the daily job, which evaluates only pilots whose end date has come;
    an administrator may ask earlier."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if actor is not None and not actor.has_perm("initiatives.evaluate_pilot", plan):
        raise Forbidden(MAY_NOT_EVALUATE)
    with transaction.atomic(), audit_context(actor=actor):
        plan = PilotPlan.objects.select_for_update().select_related("service").get(pk=plan.pk)
        service = plan.service.name
        if plan.status == PilotStatus.UNDER_REVIEW:
            open_case = Case.objects.filter(
                pilot_evaluation__plan=plan, status=CaseStatus.OPEN
            ).first()
            raise Conflict(
                ALREADY_WITH_THE_BOARD.format(
                    service=service, case=open_case.pk if open_case else "?"
                )
            )
        if plan.status != PilotStatus.RUNNING:
            raise Conflict(
                NOT_RUNNING.format(service=service, status=plan.get_status_display().lower())
            )
        if actor is None and today < plan.ends_on:
            raise Conflict(NOT_DUE.format(service=service, ends=plan.ends_on))
        evidence = pilot_evidence(plan, as_of=today)
        if decision is None:
            decision = PilotDecisionKind.GO_LIVE if evidence["all_met"] else PilotDecisionKind.STOP
        closes_at = now + case_duration()
        errors: dict[str, str] = {}
        if decision == PilotDecisionKind.EXTEND:
            wind_down_on = None
            if new_ends_on is None:
                errors["new_ends_on"] = NEW_END_NEEDED
            elif new_ends_on <= max(plan.ends_on, today):
                errors["new_ends_on"] = NEW_END_TOO_EARLY.format(ends=plan.ends_on)
        elif decision == PilotDecisionKind.STOP:
            new_ends_on = None
            earliest = earliest_wind_down(plan, closes_at)
            if wind_down_on is None:
                wind_down_on = earliest
            elif wind_down_on < earliest:
                errors["wind_down_on"] = WIND_DOWN_TOO_EARLY.format(
                    days=_notice_days(plan), earliest=earliest
                )
        elif decision == PilotDecisionKind.GO_LIVE:
            new_ends_on = wind_down_on = None
        else:
            errors["decision"] = UNKNOWN_DECISION
        if errors:
            raise ValidationError(errors)
        evaluation: list[PilotEvaluation] = []
        case_open_of(
            actor=actor,
            case=Case(kind=CaseKind.PILOT),
            now=now,
            link=lambda case: evaluation.append(
                PilotEvaluation.objects.create(
                    case=case,
                    plan=plan,
                    decision=decision,
                    new_ends_on=new_ends_on,
                    wind_down_on=wind_down_on,
                    as_of=today,
                    evidence=evidence,
                    all_met=evidence["all_met"],
                    evaluated_by=actor,
                )
            ),
        )
        plan.status = PilotStatus.UNDER_REVIEW
        validated_save(plan, actor=actor)
    return evaluation[0]


def pilots_evaluate_due(*, as_of: datetime.datetime | None = None) -> list[PilotEvaluation]:
    """The daily job: evaluate each running pilot whose end date has come and that has not
    been evaluated since. After the board rejects a decision (or lets it lapse), the next
    one waits for an administrator. Idempotent."""
    now = as_of or timezone.now()
    today = timezone.localdate(now)
    due = PilotPlan.objects.filter(status=PilotStatus.RUNNING, ends_on__lte=today).exclude(
        evaluations__as_of__gte=F("ends_on")
    )
    opened = []
    for plan in due.order_by("pk"):
        try:
            opened.append(pilot_evaluate(actor=None, plan=plan, now=now))
        except Conflict:
            continue  # another job got there first
    return opened


# What an approved decision does ------------------------------------------------------------


def pilot_decision_apply(
    evaluation: PilotEvaluation, *, status: str, actor: Any, now: datetime.datetime
) -> None:
    """The board decided (in the transaction that decides it). Approved: go live sets the
    service live (its clusters keep their notice; new ones get the live default); extend
    moves the end date; stop winds the pilot's clusters down. Rejected or lapsed: the pilot
    runs on, for an administrator to put another decision."""
    plan = (
        PilotPlan.objects.select_for_update().select_related("service").get(pk=evaluation.plan_id)
    )
    if status != CaseStatus.APPROVED:
        plan.status = PilotStatus.RUNNING
        validated_save(plan, actor=actor)
        return
    if evaluation.decision == PilotDecisionKind.GO_LIVE:
        service = plan.service
        service.lifecycle = Lifecycle.LIVE
        validated_save(service, actor=actor)
        plan.status = PilotStatus.LIVE
    elif evaluation.decision == PilotDecisionKind.EXTEND:
        assert evaluation.new_ends_on is not None  # pilotevaluation_new_ends_on_iff_extend
        plan.ends_on = evaluation.new_ends_on
        plan.status = PilotStatus.RUNNING
    else:
        assert evaluation.wind_down_on is not None  # pilotevaluation_wind_down_on_iff_stop
        _wind_down(plan, evaluation.wind_down_on, actor=actor, today=timezone.localdate(now))
        plan.status = PilotStatus.STOPPED
    validated_save(plan, actor=actor)


def _wind_down(
    plan: PilotPlan, wind_down_on: datetime.date, *, actor: Any, today: datetime.date
) -> None:
    """End every membership of the pilot's clusters on `wind_down_on`; one that ends
    sooner (a department that gave notice already) keeps its own date, and one that would
    only start by then never starts. Each member department is told when it leaves, with
    its alternatives."""
    cluster_ids = list(plan.plan_clusters.values_list("cluster_id", flat=True))
    current_or_future = (
        Membership.objects.select_for_update()
        .filter(cluster_id__in=cluster_ids)
        .exclude(leaves_on__lte=today)
        .select_related("department", "cluster")
        .order_by("pk")
    )
    told: dict[int, list[str]] = {}
    departments = {}
    for membership in current_or_future:
        departments[membership.department_id] = membership.department
        cluster = membership.cluster.code
        if membership.leaves_on is not None and membership.leaves_on <= wind_down_on:
            line = f"{cluster}: you leave on {membership.leaves_on:%-d %B %Y}, as you gave notice."
        elif membership.joined_on >= wind_down_on:
            membership.delete()
            line = (
                f"{cluster}: your membership from {membership.joined_on:%-d %B %Y} will not start."
            )
        else:
            membership.leaves_on = wind_down_on
            validated_save(membership, actor=actor)
            line = f"{cluster}: your membership ends on {wind_down_on:%-d %B %Y}."
        told.setdefault(membership.department_id, []).append(line)
    alternatives = list(
        Cluster.objects.filter(
            service__category=plan.service.category, service__lifecycle=Lifecycle.LIVE
        )
        .exclude(pk__in=cluster_ids)
        .select_related("service", "provider")
        .order_by("service__code", "code")
    )
    options = (
        "".join(
            f"- {c.name} ({c.code}): {c.service.name}, run by {c.provider.name}\n"
            for c in alternatives
        )
        or "- none yet in the catalogue: ask the PSOA.\n"
    )
    people = User.objects.filter(is_active=True, department_id__in=told).order_by("pk")
    by_department: dict[int, list[User]] = {}
    for person in people:
        if person.department_id is not None:
            by_department.setdefault(person.department_id, []).append(person)
    for department_id, lines in told.items():
        department = departments[department_id]
        notify(
            recipients=by_department.get(department_id, []),
            kind=NotificationKind.PILOT_WIND_DOWN,
            subject=f"The pilot of {plan.service.name} stops: its clusters wind down by "
            f"{wind_down_on:%-d %B %Y}",
            body=(
                f"The board decided to stop the pilot of {plan.service.name}. For "
                f"{department.name}:\n"
                + "".join(f"- {line}\n" for line in lines)
                + f"Alternatives in the catalogue:\n{options}"
            ),
            link=reverse("pilots:pilot", args=[plan.service.code]),
        )

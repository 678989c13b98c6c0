"""Pilots through their services: a plan with criteria in range, the evidence compiled
from returns, cost pools, memberships and charges (to the cent), the board case on a
proposed decision (the host of the pilot's provider recused), and what each decision does
once approved: go live, extend, stop (the clusters wind down, each member told)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from budgets.models import Charge
from clusters.models import Lifecycle, Membership
from clusters.services import default_notice_days
from governance import services as board
from governance.models import Case, CaseKind, CaseStatus, Choice, RecusalReason
from initiatives import pilots
from initiatives.models import PilotDecisionKind, PilotEvaluation, PilotPlan, PilotStatus
from initiatives.pilot_evidence import evidence_seen_by
from initiatives.tasks import evaluate_due_pilots
from notifications.models import Notification, NotificationKind
from sharedsvc.errors import Conflict, Forbidden
from tests.factories import MembershipFactory, UserFactory
from tests.initiatives.pilot_world import (  # noqa: F401  (fixtures)
    mail_fixture,
    months_back,
    plan_of,
    seated_fixture,
)


def _vote(case: Case, choice: str = Choice.APPROVE) -> Case:
    for department in ("lcs", "fin", "env"):  # the three eligible seats: TECH is recused
        if Case.objects.get(pk=case.pk).status != CaseStatus.OPEN:
            break  # decided early: the remaining seat could not change the result
        board.vote_cast(
            actor=UserFactory(username=f"dm_{department}"),
            case=case,
            choice=choice,
            reason="" if choice == Choice.APPROVE else "Not on this evidence.",
        )
    case.refresh_from_db()
    return case


def test_a_plan_is_refused_with_a_message_per_criterion_out_of_range(mail):
    with pytest.raises(ValidationError) as refused:
        plan_of(
            mail,
            service=mail.it,  # live, not in pilot
            clusters=[mail.pay_psoa],
            ends_on=months_back(4),
            min_compliance_rate=Decimal("100.5"),
            max_cost_per_unit=Decimal("0"),
            min_members=0,
            min_benefit=Decimal("-1"),
        )
    errors = refused.value.message_dict
    assert errors["service"] == [
        "Desktop IT is live, not in pilot: only a pilot service has a plan."
    ]
    assert errors["clusters"] == ["PAY-PSOA: not clusters of Desktop IT."]
    assert errors["ends_on"] == [pilots.ENDS_BEFORE_START]
    assert errors["min_compliance_rate"] == [pilots.COMPLIANCE_OUT_OF_RANGE]
    assert errors["max_cost_per_unit"] == [pilots.COST_OUT_OF_RANGE]
    assert errors["min_members"] == [pilots.MEMBERS_OUT_OF_RANGE]
    assert errors["min_benefit"] == [pilots.BENEFIT_OUT_OF_RANGE]
    assert not PilotPlan.objects.exists()


def test_only_administrators_plan_and_ask_for_an_evaluation(mail):
    for actor in (mail.manager, mail.deputy_minister, mail.analyst, mail.other_provider_manager):
        with pytest.raises(Forbidden, match="Only administrators plan pilots"):
            plan_of(mail, actor=actor)
    assert not PilotPlan.objects.exists()
    plan = plan_of(mail)
    for actor in (mail.manager, mail.deputy_minister, mail.analyst):
        with pytest.raises(Forbidden, match="Only administrators ask"):
            pilots.pilot_evaluate(actor=actor, plan=plan)
    assert not Case.objects.exists()
    assert PilotPlan.objects.get(pk=plan.pk).status == PilotStatus.RUNNING


def test_the_evidence_is_measured_against_each_criterion_to_the_cent(mail):
    plan = plan_of(mail)
    today = timezone.localdate()
    evidence = pilots.pilot_evidence(plan, as_of=today)
    months = [months_back(n) for n in (3, 2, 1)]
    assert evidence["months"] == [m.strftime("%Y-%m") for m in months]  # the complete ones
    by_name = {c["criterion"]: c for c in evidence["criteria"]}
    # 8 of 9 returns met their standard.
    assert by_name["compliance_rate"]["measured"] == "88.9%" and by_name["compliance_rate"]["met"]
    # 3 x 2,400 over 3 x 300 units.
    assert by_name["cost_per_unit"]["measured"] == "8.00" and by_name["cost_per_unit"]["met"]
    assert by_name["members"]["measured"] == "3" and by_name["members"]["met"]
    # Each month: 3 baselines of 12,000 a year pro rata to the month's days, less 2,400.
    charged = sum(Charge.objects.filter(cluster=mail.mail_cluster).values_list("amount", flat=True))
    assert charged == Decimal("7200.00")
    baseline = sum(
        (
            Decimal("36000")
            * ((m.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - m).days
            / 365
        ).quantize(Decimal("0.01"))
        for m in months
    )
    assert by_name["benefit"]["measured"] == str(baseline - charged)
    monthly = evidence["monthly"]
    assert sum(Decimal(r["benefit"]) for r in monthly) == baseline - charged
    assert sum(Decimal(r["charged"]) for r in monthly) == charged
    assert evidence["all_met"] is (baseline - charged >= 0)
    assert [r["cost_per_unit"] for r in monthly] == ["8.00", "8.00", "8.00"]


def test_the_benefit_is_withheld_from_a_reader_who_may_not_see_the_total(mail):
    plan = plan_of(mail, min_members=1)
    evidence = pilots.pilot_evidence(plan, as_of=timezone.localdate())
    # Three departments contribute: a department manager sees the total ...
    assert evidence_seen_by(mail.other_manager, evidence).withheld is None
    # ... but with one leaving before the pilot began, only two would: withheld.
    two = {**evidence, "contributors": evidence["contributors"][:2]}
    seen = evidence_seen_by(mail.provider_manager, two)
    assert seen.withheld and all(r["benefit"] is None for r in seen.monthly)
    benefit = next(c for c in seen.criteria if c["criterion"] == "benefit")
    assert benefit["measured"] is None
    assert evidence_seen_by(mail.analyst, two).withheld is None


def test_an_evaluation_opens_a_pilot_case_with_the_providers_host_recused(mail):
    plan = plan_of(mail)
    evaluation = pilots.pilot_evaluate(actor=mail.administrator, plan=plan)
    case = evaluation.case
    assert case.kind == CaseKind.PILOT and case.status == CaseStatus.OPEN
    assert evaluation.decision == (
        PilotDecisionKind.GO_LIVE if evaluation.all_met else PilotDecisionKind.STOP
    )
    recused = case.seats.get(recused=True)
    assert recused.department == mail.tech
    assert recused.recusal_reasons == [RecusalReason.PILOT_PROVIDER_HOST]
    assert case.seats.filter(recused=False).count() == 3
    assert PilotPlan.objects.get(pk=plan.pk).status == PilotStatus.UNDER_REVIEW
    opened = Notification.objects.filter(kind=NotificationKind.CASE_OPENED)
    assert sorted(n.recipient.username for n in opened) == ["dm_env", "dm_fin", "dm_lcs"]
    assert "Compliance with the service's standards, at least 85.0%: met" in opened.first().body
    with pytest.raises(Conflict, match=f"already with the board \\(case {case.pk}\\)"):
        pilots.pilot_evaluate(actor=mail.administrator, plan=plan)
    assert Case.objects.count() == 1


def test_the_daily_job_evaluates_from_the_end_date_once(mail):
    plan = plan_of(mail)
    before = timezone.now()
    assert pilots.pilots_evaluate_due(as_of=before) == []
    with pytest.raises(Conflict, match="it is evaluated from then"):
        pilots.pilot_evaluate(actor=None, plan=plan, now=before)
    at_end = before + datetime.timedelta(days=60)
    [evaluation] = pilots.pilots_evaluate_due(as_of=at_end)
    assert evaluation.evaluated_by is None and evaluation.as_of == plan.ends_on
    assert pilots.pilots_evaluate_due(as_of=at_end) == []
    # Rejected: the pilot runs on, and the next decision waits for an administrator.
    _vote(evaluation.case, Choice.REJECT)
    assert PilotPlan.objects.get(pk=plan.pk).status == PilotStatus.RUNNING
    assert pilots.pilots_evaluate_due(as_of=at_end + datetime.timedelta(days=1)) == []
    assert PilotEvaluation.objects.count() == 1


def test_going_live_makes_the_service_live_and_keeps_the_clusters_notice(mail):
    plan = plan_of(mail)
    evaluation = pilots.pilot_evaluate(
        actor=mail.administrator, plan=plan, decision=PilotDecisionKind.GO_LIVE
    )
    case = _vote(evaluation.case)
    assert case.status == CaseStatus.APPROVED
    mail.mail.refresh_from_db()
    mail.mail_cluster.refresh_from_db()
    assert mail.mail.lifecycle == Lifecycle.LIVE
    assert mail.mail_cluster.notice_days == 30
    assert default_notice_days(mail.mail) == 90
    assert PilotPlan.objects.get(pk=plan.pk).status == PilotStatus.LIVE


def test_extending_moves_the_end_date_and_the_pilot_is_evaluated_again_then(mail):
    plan = plan_of(mail)
    with pytest.raises(ValidationError) as refused:
        pilots.pilot_evaluate(
            actor=mail.administrator, plan=plan, decision=PilotDecisionKind.EXTEND
        )
    assert refused.value.message_dict == {"new_ends_on": [pilots.NEW_END_NEEDED]}
    with pytest.raises(ValidationError) as refused:
        pilots.pilot_evaluate(
            actor=mail.administrator,
            plan=plan,
            decision=PilotDecisionKind.EXTEND,
            new_ends_on=plan.ends_on,
        )
    assert "new_ends_on" in refused.value.message_dict
    assert not Case.objects.exists()
    new_end = plan.ends_on + datetime.timedelta(days=90)
    evaluation = pilots.pilot_evaluate(
        actor=mail.administrator, plan=plan, decision=PilotDecisionKind.EXTEND, new_ends_on=new_end
    )
    _vote(evaluation.case)
    plan.refresh_from_db()
    assert (plan.ends_on, plan.status) == (new_end, PilotStatus.RUNNING)
    mail.mail.refresh_from_db()
    assert mail.mail.lifecycle == Lifecycle.PILOT

    # The job runs at noon of a given day: 150 days from now in hours, across a change of
    # summer time, could fall on the day after the new end date.
    def noon_of(day):
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))

    assert pilots.pilots_evaluate_due(as_of=noon_of(new_end - datetime.timedelta(days=30))) == []
    [again] = pilots.pilots_evaluate_due(as_of=noon_of(new_end))
    assert again.as_of == new_end


def test_stopping_winds_every_membership_down_and_tells_each_member(mail):
    plan = plan_of(mail)
    leaving = Membership.objects.get(cluster=mail.mail_cluster, department=mail.env)
    own_date = timezone.localdate() + datetime.timedelta(days=35)
    leaving.leaves_on = own_date  # ENV gave notice already
    leaving.save()
    now = timezone.now()
    earliest = pilots.earliest_wind_down(plan, now + board.case_duration())
    with pytest.raises(ValidationError) as refused:
        pilots.pilot_evaluate(
            actor=mail.administrator,
            plan=plan,
            decision=PilotDecisionKind.STOP,
            wind_down_on=earliest - datetime.timedelta(days=1),
            now=now,
        )
    assert refused.value.message_dict["wind_down_on"] == [
        pilots.WIND_DOWN_TOO_EARLY.format(days=30, earliest=earliest)
    ]
    wind_down = earliest + datetime.timedelta(days=10)
    future = MembershipFactory(
        department=mail.tech,
        cluster=mail.mail_cluster,
        joined_on=wind_down + datetime.timedelta(days=5),
        usage_units=50,
    )
    evaluation = pilots.pilot_evaluate(
        actor=mail.administrator,
        plan=plan,
        decision=PilotDecisionKind.STOP,
        wind_down_on=wind_down,
        now=now,
    )
    assert _vote(evaluation.case).status == CaseStatus.APPROVED
    ends = dict(
        Membership.objects.filter(cluster=mail.mail_cluster).values_list(
            "department__code", "leaves_on"
        )
    )
    assert ends == {"LCS": wind_down, "FIN": wind_down, "ENV": own_date}
    assert not Membership.objects.filter(pk=future.pk).exists()  # it would never have started
    assert PilotPlan.objects.get(pk=plan.pk).status == PilotStatus.STOPPED
    told = Notification.objects.filter(kind=NotificationKind.PILOT_WIND_DOWN)
    assert {n.recipient.username for n in told} == {
        "dm_lcs",
        "mgr_lcs",
        "dm_fin",
        "dm_env",
        "mgr_env",
        "dm_tech",
    }
    body = told.get(recipient__username="mgr_lcs").body
    assert f"MAIL-TECH: your membership ends on {wind_down:%-d %B %Y}." in body
    assert (
        f"you leave on {own_date:%-d %B %Y}, as you gave notice"
        in told.get(recipient__username="mgr_env").body
    )
    assert "will not start" in told.get(recipient__username="dm_tech").body
    assert "Technology Desktop (IT-TECH): Desktop IT, run by Technology Services" in body


def test_a_pilot_case_is_read_by_the_board_its_provider_and_its_members(mail):
    plan = plan_of(mail)
    case = pilots.pilot_evaluate(actor=mail.administrator, plan=plan).case
    readers = {
        name
        for name, user in mail.personas().items()
        if user is not None and Case.objects.visible_to(user).filter(pk=case.pk).exists()
    }
    # ENV and LCS are members; TECHSVC runs the cluster; the DMs hold seats; the PSOA's
    # manager is none of these.
    assert readers == {
        "administrator",
        "analyst",
        "manager",
        "other_manager",
        "deputy_minister",
        "recused_deputy_minister",
        "other_provider_manager",
    }
    assert not mail.provider_manager.has_perm("initiatives.view_pilot_evidence", plan)
    assert mail.other_provider_manager.has_perm("initiatives.view_pilot_evidence", plan)


def test_the_command_and_the_beat_task_evaluate_the_due_pilots(mail):
    plan = plan_of(mail)
    out = StringIO()
    call_command("evaluate_due_pilots", stdout=out)  # before the end date: nothing
    assert out.getvalue() == "" and not PilotEvaluation.objects.exists()
    at_end = (timezone.now() + datetime.timedelta(days=60)).isoformat()
    call_command("evaluate_due_pilots", "--as-of", at_end, stdout=out)
    evaluation = PilotEvaluation.objects.get()
    assert out.getvalue() == f"The pilot of Digital mail: case {evaluation.case_id} (go live).\n"
    assert PilotPlan.objects.get(pk=plan.pk).status == PilotStatus.UNDER_REVIEW
    with time_machine.travel(timezone.now() + datetime.timedelta(days=61)):
        assert evaluate_due_pilots() == 0  # evaluated once
    assert PilotEvaluation.objects.count() == 1
    assert "evaluate-due-pilots" in settings.CELERY_BEAT_SCHEDULE

"""The demo's programmes and pilots (`manage.py seed_demo`):

- PORTAL26, "Citizen transactions online", active since the board approved it four months
  ago, with a department in every state: LCS and SDPR joined, HLTH committed, EDUC late
  (its date passed without joining: told once), JAG declined with a reason, AGRI pending;
- FINALL, "Financial operations for every agency", proposed, with its board case open;
- HRALL, "Human resources for every agency", proposed and approved in the last complete
  fiscal year and answered then (two joined, one declined, one pending): the annual
  benefits statement of that year has a programme and a board decision to show;
- the PSOA's digital records pilot (DOCS) evaluated at its end and taken live by the board;
- the citizen portal pilot (PORTAL) at its end date today: due for evaluation.

All through the services; the programme's past is then dated back, as the board's demo
does for its lapsed case. Nothing is made twice on a second run.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from clusters.demo import fiscal_year_start
from defection.demo import deputy_minister_of
from governance.models import Case, Choice, Vote
from governance.services import vote_cast
from initiatives.models import Answer, PilotDecisionKind, PilotPlan, Programme
from initiatives.pilots import pilot_evaluate, pilot_plan_create
from initiatives.services import commitment_answer, commitments_notify_late, programme_propose
from sharedsvc.models import User
from sharedsvc.periods import fiscal_year_bounds, last_complete_fiscal_year, previous_month

BOARD = ("EDUC", "ENV", "HLTH", "JAG", "LCS", "SDPR", "TACS", "FIN")


def _deputy_minister(code: str) -> User:
    user = deputy_minister_of(code)
    assert user is not None, f"the demo gives {code} a deputy minister"
    return user


def _approve(case: Case, seats: tuple[str, ...] = BOARD) -> None:
    for code in seats:
        case.refresh_from_db()
        if not case.is_open:
            break  # decided early: the remaining seats could no longer turn it
        voter = deputy_minister_of(code)
        if (
            voter is not None
            and not case.seats.filter(department__code=code, recused=True).exists()
        ):
            vote_cast(actor=voter, case=case, choice=Choice.APPROVE)


def _back(case: Case, days: int) -> None:
    """Date a decided case (and its votes) `days` back."""
    shift = datetime.timedelta(days=days)
    Case.objects.filter(pk=case.pk).update(
        opened_at=case.opened_at - shift,
        closes_at=case.closes_at - shift,
        decided_at=(case.decided_at - shift) if case.decided_at else None,
    )
    for vote in Vote.objects.filter(case=case):
        Vote.objects.filter(pk=vote.pk).update(cast_at=vote.cast_at - shift)


def _portal_programme(demo, today: datetime.date) -> None:
    if Programme.objects.filter(code="PORTAL26").exists():
        return
    now = timezone.now()
    d = demo.departments
    programme = programme_propose(
        actor=_deputy_minister("LCS"),
        code="PORTAL26",
        name="Citizen transactions online",
        service=demo.services["PORTAL"],
        sponsor=_deputy_minister("LCS"),
        goal=(
            "Every ministry that serves citizens offers its transactions through the one "
            "citizen services portal, so that people find them in one place."
        ),
        target_on=today + datetime.timedelta(days=240),
        departments=[d[code] for code in ("AGRI", "EDUC", "HLTH", "JAG", "LCS", "SDPR")],
    )
    case = Case.objects.get(programme_decision__programme=programme)
    _approve(case)
    case.refresh_from_db()
    _back(case, 120)
    Programme.objects.filter(pk=programme.pk).update(
        proposed_at=programme.proposed_at - datetime.timedelta(days=120)
    )
    answered = now - datetime.timedelta(days=100)
    by_code = {c.department.code: c for c in programme.commitments.select_related("department")}
    pilot_start = fiscal_year_start(previous_month(today))
    answers = {
        "LCS": (Answer.COMMITTED, pilot_start + datetime.timedelta(days=30), ""),
        "SDPR": (Answer.COMMITTED, pilot_start + datetime.timedelta(days=30), ""),
        "HLTH": (Answer.COMMITTED, today + datetime.timedelta(days=90), ""),
        "EDUC": (Answer.COMMITTED, today - datetime.timedelta(days=15), ""),
        "JAG": (
            Answer.DECLINED,
            None,
            "Court transactions need the courts' own case system; we will link to it.",
        ),
    }
    for code, (answer, join_by, reason) in answers.items():
        commitment_answer(
            actor=deputy_minister_of(code) or demo.actor,
            commitment=by_code[code],
            answer=answer,
            join_by=join_by,
            reason=reason,
            now=answered,
        )
    commitments_notify_late(as_of=today, actor=demo.actor)
    demo.count("programmes")


def _finance_programme(demo, today: datetime.date) -> None:
    if Programme.objects.filter(code="FINALL").exists():
        return
    d = demo.departments
    programme = programme_propose(
        actor=_deputy_minister("FIN"),
        code="FINALL",
        name="Financial operations for every agency",
        service=demo.services["FINOPS"],
        sponsor=_deputy_minister("FIN"),
        goal="The agencies that still pay their own invoices join a shared finance cluster.",
        target_on=today + datetime.timedelta(days=365),
        departments=[d[code] for code in ("CLBC", "MUNI", "TRAN")],
    )
    case = Case.objects.get(programme_decision__programme=programme)
    vote_cast(actor=deputy_minister_of("EDUC"), case=case, choice=Choice.APPROVE)
    vote_cast(
        actor=deputy_minister_of("HLTH"),
        case=case,
        choice=Choice.REJECT,
        reason="Agree with the goal; the date is too soon for CLBC.",
    )
    demo.count("programmes")


def _last_years_programme(demo, today: datetime.date) -> None:
    """A programme of the last complete fiscal year: proposed now, approved, then dated
    back into that year (as PORTAL26 is), its answers given in that year."""
    if Programme.objects.filter(code="HRALL").exists():
        return
    d = demo.departments
    year_start, _ = fiscal_year_bounds(last_complete_fiscal_year(today))
    programme = programme_propose(
        actor=_deputy_minister("HLTH"),
        code="HRALL",
        name="Human resources for every agency",
        service=demo.services["HR"],
        sponsor=_deputy_minister("HLTH"),
        goal="Every agency's people are served by the one shared human resources service.",
        target_on=today + datetime.timedelta(days=200),
        departments=[d[code] for code in ("AGRI", "CLBC", "FOR", "MUNI")],
    )
    case = Case.objects.get(programme_decision__programme=programme)
    _approve(case)
    case.refresh_from_db()
    days = (today - (year_start + datetime.timedelta(days=40))).days
    _back(case, days)
    Programme.objects.filter(pk=programme.pk).update(
        proposed_at=programme.proposed_at - datetime.timedelta(days=days)
    )
    answered = timezone.now() - datetime.timedelta(days=days - 20)
    by_code = {c.department.code: c for c in programme.commitments.select_related("department")}
    answers = {
        "AGRI": (Answer.COMMITTED, year_start + datetime.timedelta(days=200), ""),
        "MUNI": (Answer.COMMITTED, year_start + datetime.timedelta(days=200), ""),
        "CLBC": (Answer.DECLINED, None, "We brought human resources in-house this year."),
    }
    for code, (answer, join_by, reason) in answers.items():
        commitment_answer(
            actor=demo.actor,
            commitment=by_code[code],
            answer=answer,
            join_by=join_by,
            reason=reason,
            now=answered,
        )
    demo.count("programmes")


def _pilots(demo, today: datetime.date) -> None:
    pilot_start = fiscal_year_start(previous_month(today))
    if not PilotPlan.objects.filter(service=demo.services["DOCS"]).exists():
        plan = pilot_plan_create(
            actor=demo.actor,
            service=demo.services["DOCS"],
            clusters=[demo.clusters["DOCS-PILOT"]],
            starts_on=pilot_start,
            ends_on=today - datetime.timedelta(days=1),
            min_compliance_rate=Decimal("90"),
            max_cost_per_unit=Decimal("12.00"),
            min_members=3,
            min_benefit=Decimal("0"),
        )
        evaluation = pilot_evaluate(
            actor=None, plan=plan, decision=PilotDecisionKind.GO_LIVE, now=timezone.now()
        )
        _approve(evaluation.case)
        demo.count("pilot plans")
    if not PilotPlan.objects.filter(service=demo.services["PORTAL"]).exists():
        pilot_plan_create(
            actor=demo.actor,
            service=demo.services["PORTAL"],
            clusters=[demo.clusters["PORTAL-PILOT"]],
            starts_on=pilot_start,
            ends_on=today,
            min_compliance_rate=Decimal("85"),
            max_cost_per_unit=Decimal("0.40"),
            min_members=4,
            min_benefit=Decimal("0"),
        )
        demo.count("pilot plans")


def build_initiatives(demo, today: datetime.date) -> None:
    _portal_programme(demo, today)
    _finance_programme(demo, today)
    _last_years_programme(demo, today)
    _pilots(demo, today)

"""What needs me (issue 16, the data layer): each item goes to whom the gate lets see it,
with its link, and nobody else; the queries are the same at two sizes of data."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from budgets.services import budget_line_create, chargeback_run, cost_pool_create
from clusters.models import Standard
from defection.models import Destination, Reason
from defection.services import exit_request_submit, exit_request_withdraw
from governance.models import Case, CaseStatus
from governance.services import vote_cast
from initiatives.models import Answer, Commitment
from initiatives.services import commitment_answer, programme_propose
from notifications.services import EMAIL_TASK
from servicelevels.services import measurement_submit
from sharedsvc.models import OutboxItem, OutboxStatus, SignInEvent, SignInKind
from sharedsvc.periods import (
    fiscal_year_bounds,
    fiscal_year_of,
    last_complete_fiscal_year,
    month_start,
    previous_month,
)
from sharedsvc.roles import Role
from tests.factories import DepartmentFactory, MembershipFactory, UserFactory
from tests.personas import World
from web.needs import (
    STUCK_AFTER,
    Need,
    chargeback_done,
    decisions_from,
    decisions_since,
    needs_of,
    previous_sign_in,
)

pytestmark = pytest.mark.django_db


def today() -> datetime.date:
    return timezone.localdate()


def last_month() -> datetime.date:
    return previous_month(month_start(today()))


def needs(user, kind: str, **when) -> list[Need]:
    return [n for n in needs_of(user, **when) if n.kind == kind]


def env_case(w: World) -> Case:
    """ENV asks to leave PAY-PSOA for the outside firm: a case; FIN (hosts the PSOA) and
    ENV are parties, LCS's seat is eligible."""
    request = exit_request_submit(
        actor=w.other_manager,
        department=w.env,
        from_cluster=w.pay_psoa,
        destination=Destination.PROVIDER,
        to_provider=w.outside,
        reason=Reason.COST,
        justification="Cost.",
    )
    return request.board_case


def other_cases(w: World, n: int, prefix: str) -> None:
    for i in range(n):
        department = DepartmentFactory(code=f"{prefix}{i:02d}", is_main=False)
        MembershipFactory(department=department, cluster=w.pay_psoa, usage_units=10)
        exit_request_submit(
            actor=w.administrator,
            department=department,
            from_cluster=w.pay_psoa,
            destination=Destination.PROVIDER,
            to_provider=w.outside,
            reason=Reason.COST,
            justification="Cost.",
        )


# The board --------------------------------------------------------------------------------


def test_a_seat_holder_is_asked_to_vote_until_the_seat_has_voted(world):
    case = env_case(world)
    now = timezone.now()
    [need] = needs(world.deputy_minister, "vote", now=now)
    assert need.url == f"/cases/{case.pk}/"
    assert need.title.startswith(f"Vote on case {case.pk}: ")
    assert "ENV" in need.title and "PAY-PSOA" in need.title
    assert need.detail.endswith("left")
    assert need.due == case.closes_at
    vote_cast(actor=world.deputy_minister, case=case, choice="abstain", reason="")
    assert needs(world.deputy_minister, "vote", now=now) == []


@pytest.mark.parametrize(
    "persona",
    [
        "recused_deputy_minister",
        "manager",
        "other_manager",
        "analyst",
        "administrator",
        "provider_manager",
        "outsider",
    ],
)
def test_nobody_else_is_asked_to_vote(world, persona):
    env_case(world)
    assert needs(getattr(world, persona), "vote") == []


def test_a_case_past_its_closing_time_asks_no_vote(world):
    case = env_case(world)
    assert needs(world.deputy_minister, "vote", now=case.closes_at) == []


# A department's ---------------------------------------------------------------------------


def _charged_lines(w: World) -> datetime.date:
    """LCS's payroll line 97% spent, ENV's overspent, by last month's chargeback; the day
    to ask on (in last month's fiscal year)."""
    month = last_month()
    year = fiscal_year_of(month)
    budget_line_create(
        actor=w.manager,
        department=w.lcs,
        fiscal_year=year,
        service=w.payroll,
        allocated=Decimal("1000.00"),
    )
    budget_line_create(
        actor=w.other_manager,
        department=w.env,
        fiscal_year=year,
        service=w.payroll,
        allocated=Decimal("100.00"),
    )
    cost_pool_create(
        actor=w.provider_manager, cluster=w.pay_psoa, period=month, amount=Decimal("1700.00")
    )
    chargeback_run(actor=w.administrator, period=month)
    return month


def test_budget_lines_past_90_percent_go_to_their_department(world):
    day = _charged_lines(world)
    year = fiscal_year_of(day)
    [lcs] = needs(world.manager, "budget_line", today=day)
    assert "past 90% spent" in lcs.title
    assert lcs.detail.startswith(f"97% of the {year} payroll line spent")
    assert lcs.url.startswith("/departments/LCS/budget/lines/")
    assert needs(world.deputy_minister, "budget_line", today=day) == [lcs]
    [env] = needs(world.other_manager, "budget_line", today=day)
    assert "overspent" in env.title
    assert env.url.startswith("/departments/ENV/budget/lines/")


@pytest.mark.parametrize(
    "persona",
    ["analyst", "administrator", "provider_manager", "other_provider_manager", "outsider"],
)
def test_no_budget_line_goes_to_anyone_else(world, persona):
    day = _charged_lines(world)
    assert needs(getattr(world, persona), "budget_line", today=day) == []


def test_a_department_is_told_of_its_open_exit_request_and_fellow_members_of_the_departure(
    world,
):
    case = env_case(world)
    request = case.exit_request
    url = f"/exit-requests/{request.pk}/"
    [own] = needs(world.other_manager, "exit_request")
    assert own.url == url
    assert own.title == "Your notice to leave PAY-PSOA: waiting for the board"
    assert needs(world.other_manager, "departure") == []
    # A fellow member of PAY-PSOA and the provider running it hear of the departure.
    for user in (world.manager, world.deputy_minister, world.provider_manager):
        [departure] = needs(user, "departure")
        assert departure.url == url
        assert departure.title == "ENV gives notice to leave PAY-PSOA"
    for user in (world.manager, world.provider_manager, world.analyst, world.administrator):
        assert needs(user, "exit_request") == []
    for user in (world.other_provider_manager, world.analyst, world.outsider):
        assert needs(user, "departure") == []


def _breaching_returns(w: World) -> None:
    """PSOA's payroll missed its standard for LCS three months running, up to last month."""
    standard = Standard.objects.get(service=w.payroll)
    month = last_month()
    for _ in range(3):
        measurement_submit(
            actor=w.provider_manager,
            standard=standard,
            cluster=w.pay_psoa,
            department=w.lcs,
            period=month,
            value=Decimal("90"),
        )
        month = previous_month(month)


def test_a_persistent_breach_goes_to_the_department_and_the_provider(world):
    _breaching_returns(world)
    [ours] = needs(world.manager, "breach")
    assert ours.url == "/departments/LCS/service-levels/"
    assert "PAY-PSOA" in ours.title and "3 months running" in ours.title
    [theirs] = needs(world.provider_manager, "breach")
    assert theirs.url == "/providers/PSOA/scorecard/"
    assert "for LCS" in theirs.title
    for user in (world.other_manager, world.other_provider_manager, world.outsider):
        assert needs(user, "breach") == []


# A provider's -----------------------------------------------------------------------------


def test_a_provider_is_told_of_last_months_returns_until_they_are_in(world):
    [need] = needs(world.provider_manager, "returns_due")
    assert need.url == "/providers/PSOA/returns/upload/"
    assert need.title.startswith("PAY-PSOA: 2 of 2 returns for")
    assert need.due == month_start(today()).replace(day=10)
    standard = Standard.objects.get(service=world.payroll)
    for department in (world.lcs, world.env):
        measurement_submit(
            actor=world.provider_manager,
            standard=standard,
            cluster=world.pay_psoa,
            department=department,
            period=last_month(),
            value=Decimal("100"),
        )
    assert needs(world.provider_manager, "returns_due") == []
    # TECH's clusters are TECH's: not PSOA's, nor anyone else's to be told of.
    assert {n.title.split(":")[0] for n in needs(world.other_provider_manager, "returns_due")} == {
        "IT-TECH",
        "PAY-TECH",
    }
    for user in (world.manager, world.analyst, world.administrator, world.outsider):
        assert needs(user, "returns_due") == []


def test_a_provider_is_told_of_a_missing_cost_pool_until_it_is_entered(world):
    [need] = needs(world.provider_manager, "cost_pool")
    assert need.url == "/providers/PSOA/cost-pools/"
    assert "PAY-PSOA" in need.title
    cost_pool_create(
        actor=world.provider_manager,
        cluster=world.pay_psoa,
        period=last_month(),
        amount=Decimal("10.00"),
    )
    assert needs(world.provider_manager, "cost_pool") == []
    assert len(needs(world.other_provider_manager, "cost_pool")) == 2
    for user in (world.manager, world.analyst, world.administrator, world.outsider):
        assert needs(user, "cost_pool") == []


# Administrators' --------------------------------------------------------------------------


def test_the_chargeback_of_last_month_goes_to_those_who_may_run_it(world):
    [need] = needs(world.administrator, "chargeback")
    assert need.url == "/chargeback/"
    assert need.detail == "Not run yet"
    for user in (world.analyst, world.manager, world.provider_manager, world.outsider):
        assert needs(user, "chargeback") == []
    chargeback_run(actor=world.administrator, period=last_month())
    assert needs(world.administrator, "chargeback") == []


# Empty states, order, queries -------------------------------------------------------------


@pytest.mark.parametrize("persona", ["analyst", "manager", "outsider", "anonymous"])
def test_nothing_needs_them_in_a_quiet_world(world, persona):
    assert needs_of(world.personas()[persona]) == []


def test_the_soonest_comes_first(world):
    env_case(world)
    kinds = [n.kind for n in needs_of(world.provider_manager)]
    # The departure is dated months ahead; the returns on the 10th; the pool is undated.
    assert kinds.index("returns_due") < kinds.index("cost_pool")
    assert kinds[-1] == "cost_pool"


def _count(user) -> int:
    now = timezone.now()
    with CaptureQueriesContext(connection) as ctx:
        needs_of(user, today=today(), now=now)
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "persona",
    [
        "administrator",
        "analyst",
        "manager",
        "other_manager",
        "deputy_minister",
        "recused_deputy_minister",
        "provider_manager",
        "other_provider_manager",
        "outsider",
    ],
)
def test_the_same_queries_at_two_sizes(world, persona):
    # A department's people: their department, the cases (the seats held a subquery), the
    # budget lines, their exit requests, the departures, the breaches; a provider's: the
    # provider, the cases, returns, pools, departures, breaches; those who may run the
    # chargeback: its runs. None for the outsider.
    user = getattr(world, persona)
    env_case(world)
    _breaching_returns(world)
    small = _count(user)
    other_cases(world, 3, "NA")
    large = _count(user)
    assert small == large
    if persona == "outsider":
        assert small == 0


# Programme commitments ----------------------------------------------------------------------


def _programme(w: World, *, target_on: datetime.date):
    return programme_propose(
        actor=w.administrator,
        code="DESK",
        name="Desktop IT everywhere",
        service=w.it,
        sponsor=w.deputy_minister,
        goal="Every ministry on one desktop service.",
        target_on=target_on,
        departments=[w.env],
    )


def test_a_department_is_asked_to_answer_a_programme_then_reminded_of_its_date(world):
    day = today()
    programme = _programme(world, target_on=day + datetime.timedelta(days=200))
    [ask] = needs(world.other_manager, "commitment", today=day)
    assert ask.url == "/programmes/DESK/answers/ENV/"
    assert ask.title.startswith("Answer the Desktop IT everywhere programme: will ENV join by")
    assert ask.due == programme.target_on
    # Committed to a date more than 90 days off: nothing to do yet.
    join_by = day + datetime.timedelta(days=120)
    commitment_answer(
        actor=world.other_manager,
        commitment=programme.commitments.get(),
        answer=Answer.COMMITTED,
        join_by=join_by,
    )
    assert needs(world.other_manager, "commitment", today=day) == []
    # Within 90 days of it: a reminder, with a link to the programme.
    soon = join_by - datetime.timedelta(days=30)
    [due] = needs(world.other_manager, "commitment", today=soon)
    assert due.url == "/programmes/DESK/"
    assert due.due == join_by
    assert due.detail == f"Due on {join_by.day} {join_by:%B %Y}"
    # Past it without having joined: late.
    [late] = needs(world.other_manager, "commitment", today=join_by + datetime.timedelta(days=1))
    assert late.title.endswith(": it is late")
    # Joined: nothing more.
    MembershipFactory(department=world.env, cluster=world.it_tech, joined_on=join_by)
    assert (
        needs(world.other_manager, "commitment", today=join_by + datetime.timedelta(days=1)) == []
    )
    assert Commitment.objects.get(programme=programme).answer == Answer.COMMITTED


@pytest.mark.parametrize(
    "persona", ["manager", "analyst", "administrator", "provider_manager", "outsider"]
)
def test_no_one_else_is_asked_for_another_departments_answer(world, persona):
    _programme(world, target_on=today() + datetime.timedelta(days=200))
    assert needs(getattr(world, persona), "commitment") == []


# Analysts' flags ----------------------------------------------------------------------------


def _self_preferring(w: World) -> None:
    """TECH runs PAY-TECH and is a member of it: SOC joins it, and over the last six months
    TECH's returns met the standard and SOC's missed it."""
    soc = DepartmentFactory(code="SOC", is_main=False)
    MembershipFactory(department=soc, cluster=w.pay_tech, joined_on=datetime.date(2025, 4, 1))
    standard = Standard.objects.get(service=w.payroll)
    month = last_month()
    for _ in range(6):
        for department, value in ((w.tech, Decimal("100")), (soc, Decimal("90"))):
            measurement_submit(
                actor=w.other_provider_manager,
                standard=standard,
                cluster=w.pay_tech,
                department=department,
                period=month,
                value=value,
            )
        month = previous_month(month)


def _costlier_than_before(w: World) -> str:
    """PAY-PSOA charged its members far more in a month of the last complete fiscal year
    than they paid a year before they joined: a negative benefit. The fiscal year."""
    year = last_complete_fiscal_year(today())
    month = fiscal_year_bounds(year)[0]
    cost_pool_create(
        actor=w.provider_manager, cluster=w.pay_psoa, period=month, amount=Decimal("1000000.00")
    )
    chargeback_run(actor=w.administrator, period=month)
    return year


def test_readers_of_the_overview_are_told_of_its_flags(world):
    _self_preferring(world)
    year = _costlier_than_before(world)
    for user in (world.analyst, world.administrator):
        flags = {n.title: n for n in needs(user, "flag")}
        preference = flags["PAY-TECH may favour its host department TECH"]
        assert preference.url == "/overview/?sort=-self_preference"
        assert preference.detail.startswith(
            "TECH met 100.0% of its standards, the other members 0.0%"
        )
        cost = flags[f"PAY-PSOA cost its members more than before, {year}"]
        assert cost.url == "/overview/?sort=benefit"
        assert cost.detail.startswith("A benefit of -")
        assert len(flags) == 2
    for persona in ("manager", "deputy_minister", "provider_manager", "other_provider_manager"):
        assert needs(getattr(world, persona), "flag") == []


def test_late_returns_are_flagged_after_the_10th_to_readers_of_every_scorecard(world):
    month = month_start(today())
    before, after = month.replace(day=10), month.replace(day=11)
    assert needs(world.analyst, "flag", today=before) == []
    late = needs(world.analyst, "flag", today=after)
    assert {(n.title.split(":")[0], n.url) for n in late} == {
        ("PAY-PSOA", "/providers/PSOA/scorecard/"),
        ("IT-TECH", "/providers/TECHSVC/scorecard/"),
        ("PAY-TECH", "/providers/TECHSVC/scorecard/"),
    }
    assert all(n.due == before for n in late)
    # The provider's own people are asked for the returns instead (returns_due).
    assert needs(world.provider_manager, "flag", today=after) == []
    [own] = needs(world.provider_manager, "returns_due", today=after)
    assert "are late" in own.title


# Administrators': background work and people ------------------------------------------------


def test_failed_and_stuck_background_work_goes_to_administrators(world):
    now = timezone.now()
    old = now - STUCK_AFTER - datetime.timedelta(seconds=1)
    OutboxItem.objects.create(key="a", task="budgets.tasks.run", status=OutboxStatus.FAILED)
    OutboxItem.objects.create(key="b", task="budgets.tasks.run", created_at=old)
    OutboxItem.objects.create(key="c", task="budgets.tasks.run", created_at=now)  # not yet
    OutboxItem.objects.create(key="d", task=EMAIL_TASK, created_at=old)
    OutboxItem.objects.create(key="e", task="x", status=OutboxStatus.SENT, created_at=old)
    jobs, emails = needs(world.administrator, "background", now=now)
    assert jobs.title == "2 background jobs not done"
    assert jobs.detail == "1 failed after their last try, 1 waiting for over 15 minutes"
    assert jobs.url == "/admin/sharedsvc/outboxitem/?status__exact=failed"
    assert emails.title == "1 notification email not delivered"
    assert emails.url == f"/admin/sharedsvc/outboxitem/?status__exact=pending&task={EMAIL_TASK}"
    for persona in ("analyst", "manager", "provider_manager", "deputy_minister"):
        assert needs(getattr(world, persona), "background", now=now) == []
    OutboxItem.objects.filter(key__in=["a", "b", "d"]).update(status=OutboxStatus.SENT)
    assert needs(world.administrator, "background", now=now) == []


def test_people_without_a_role_go_to_those_who_give_roles(world):
    assert needs(world.administrator, "user") == []
    UserFactory(username="new.person", role=Role.UNASSIGNED, department=None, provider=None)
    UserFactory(username="gone", role=Role.UNASSIGNED, department=None, is_active=False)
    [need] = needs(world.administrator, "user")
    assert need.title == "1 person waits for a role"
    assert need.url == "/admin/sharedsvc/user/?role__exact=unassigned&is_active__exact=1"
    for persona in ("analyst", "manager", "provider_manager", "deputy_minister"):
        assert needs(getattr(world, persona), "user") == []


# What happened ------------------------------------------------------------------------------


def test_decisions_are_told_since_the_sign_in_before_this_one(world):
    user = world.deputy_minister
    first = timezone.now() - datetime.timedelta(days=3)
    SignInEvent.objects.create(
        kind=SignInKind.SIGNED_IN, username=user.username, user=user, at=first
    )
    SignInEvent.objects.create(kind=SignInKind.FAILED, username=user.username, at=first)
    this_session = first + datetime.timedelta(days=2)
    SignInEvent.objects.create(
        kind=SignInKind.SIGNED_IN, username=user.username, user=user, at=this_session
    )
    assert previous_sign_in(user, this_session) == first
    assert previous_sign_in(user, first) is None
    # The earlier of the previous sign-in and the month's start.
    month = timezone.make_aware(datetime.datetime.combine(month_start(today()), datetime.time.min))
    assert decisions_from(previous=first, today=today()) == min(first, month)
    assert decisions_from(previous=None, today=today()) == month


def test_a_decision_is_told_to_those_who_see_its_case(world):
    case = env_case(world)
    since = timezone.now()
    assert decisions_since(world.deputy_minister, since=since) == []
    exit_request_withdraw(actor=world.other_manager, exit_request=case.exit_request)
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    for persona in ("deputy_minister", "analyst", "other_manager", "manager"):
        [told] = decisions_since(getattr(world, persona), since=since)
        assert told.url == f"/cases/{case.pk}/"
        assert told.title.startswith(f"Case {case.pk}: ENV asks to leave PAY-PSOA")
        assert told.detail.startswith("Withdrawn on ")
    assert decisions_since(world.outsider, since=since) == []
    assert (
        decisions_since(
            world.deputy_minister, since=case.decided_at + datetime.timedelta(seconds=1)
        )
        == []
    )


def test_the_chargeback_done_is_told_to_those_who_run_it(world):
    assert chargeback_done(world.administrator, today=today()) == []
    run = chargeback_run(actor=world.administrator, period=last_month())
    [done] = chargeback_done(world.administrator, today=today())
    assert done.url == f"/chargeback/runs/{run.pk}/"
    assert done.title == f"{last_month():%B %Y} is charged to the members"
    assert chargeback_done(world.analyst, today=today()) == []

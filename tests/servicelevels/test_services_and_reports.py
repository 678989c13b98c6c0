"""Service levels: returns, persistent breaches, the scorecard, self-preference, benefits,
alternatives and cluster costs, checked against hand-worked figures."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from budgets.models import CostPool
from budgets.services import chargeback_run
from clusters.models import Membership
from notifications.models import Notification, NotificationKind
from servicelevels import selectors, services
from servicelevels.models import BreachNotice, Measurement
from tests.factories import ClusterFactory, MembershipFactory, StandardFactory
from tests.notifications.support import celery_eager

D = datetime.date


@pytest.fixture
def on_time(world):
    """PAY-PSOA's "Paid on time" standard: higher is better, target 99.5."""
    return world.payroll.standards.get(name="Paid on time")


def submit(world, standard, department, period, value, cluster=None):
    cluster = cluster or world.pay_psoa
    # The cluster's own provider submits (the service checks it).
    own = {
        world.psoa.pk: world.provider_manager,
        world.tech_provider.pk: world.other_provider_manager,
    }
    return services.measurement_submit(
        actor=own.get(cluster.provider_id, world.administrator),
        standard=standard,
        cluster=cluster,
        department=department,
        period=period,
        value=Decimal(value),
    )


def test_met_follows_target_and_direction(world, on_time):
    hit = submit(world, on_time, world.lcs, D(2026, 1, 1), "99.5")
    miss = submit(world, on_time, world.lcs, D(2026, 2, 1), "99.4")
    lower = StandardFactory(
        service=world.payroll, name="Errors", direction="lower_is_better", target=Decimal("2")
    )
    low = submit(world, lower, world.lcs, D(2026, 1, 1), "2")
    high = submit(world, lower, world.lcs, D(2026, 2, 1), "2.1")
    assert (hit.met, miss.met, low.met, high.met) == (True, False, True, False)
    flags = dict(Measurement.objects.with_met().values_list("pk", "met_flag"))
    assert flags == {hit.pk: True, miss.pk: False, low.pk: True, high.pk: False}


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"standard": "it"}, "standard", "not of PAY-PSOA"),
        ({"department": "tech"}, "department", "was not a member"),
        ({"period": "this_month"}, "period", "has not ended"),
    ],
)
def test_bad_returns_are_refused(world, on_time, kwargs, field, text):
    data = {"standard": on_time, "department": world.lcs, "period": D(2026, 1, 1)}
    if kwargs.get("standard") == "it":
        data["standard"] = world.it.standards.first()
    if kwargs.get("department") == "tech":
        data["department"] = world.tech
    if kwargs.get("period") == "this_month":
        data["period"] = timezone.localdate().replace(day=1)
    with pytest.raises(ValidationError) as err:
        submit(world, data["standard"], data["department"], data["period"], "99")
    assert text in " ".join(err.value.message_dict[field])
    assert not Measurement.objects.exists()


def test_a_duplicate_return_is_refused(world, on_time):
    submit(world, on_time, world.lcs, D(2026, 1, 1), "99.9")
    with pytest.raises(ValidationError, match="already exists"):
        submit(world, on_time, world.lcs, D(2026, 1, 1), "98")
    assert Measurement.objects.get().value == Decimal("99.9")


def test_a_list_with_one_bad_row_saves_nothing_and_names_the_row(world, on_time):
    rows = [
        {
            "standard": on_time,
            "cluster": world.pay_psoa,
            "department": world.lcs,
            "period": D(2026, 1, 1),
            "value": Decimal("99"),
        },
        {
            "standard": on_time,
            "cluster": world.pay_psoa,
            "department": world.tech,
            "period": D(2026, 1, 1),
            "value": Decimal("99"),
        },
    ]
    with pytest.raises(ValidationError) as err:
        services.measurements_submit(actor=world.provider_manager, rows=rows)
    assert "row 2" in err.value.message_dict
    assert not Measurement.objects.exists()


def test_three_misses_running_are_a_persistent_breach(world, on_time):
    for month, value in [(1, "98"), (2, "97"), (3, "99.9"), (4, "90"), (5, "91")]:
        submit(world, on_time, world.lcs, D(2026, month, 1), value)
    assert selectors.persistent_breaches() == []  # 2 misses, a hit, 2 misses
    submit(world, on_time, world.lcs, D(2026, 6, 1), "92")
    (breach,) = selectors.persistent_breaches()
    assert (breach["department"], breach["cluster"], breach["standard"]) == (
        "LCS",
        "PAY-PSOA",
        "Paid on time",
    )
    assert (breach["started"], breach["latest"], breach["months"], breach["ongoing"]) == (
        D(2026, 4, 1),
        D(2026, 6, 1),
        3,
        True,
    )


def test_breaches_since_a_month_are_the_runs_reaching_it_whole(world, on_time):
    # Misses in January to March (a breach that ended), a hit in April, misses in May to
    # August (a breach to date). `since` keeps the runs whose latest month is that month
    # or later, each whole: a run begun before `since` keeps its start and length.
    for month, value in [(1, "90"), (2, "91"), (3, "92"), (4, "99.9")]:
        submit(world, on_time, world.lcs, D(2026, month, 1), value)
    for month in (5, 6, 7, 8):
        submit(world, on_time, world.lcs, D(2026, month, 1), "90")
    every = selectors.persistent_breaches()
    assert [(b["started"], b["latest"], b["months"]) for b in every] == [
        (D(2026, 5, 1), D(2026, 8, 1), 4),
        (D(2026, 1, 1), D(2026, 3, 1), 3),
    ]
    for since in (D(2026, 1, 1), D(2026, 3, 1), D(2026, 3, 17)):
        assert selectors.persistent_breaches(since=since) == every
    for since in (D(2026, 4, 1), D(2026, 5, 1), D(2026, 7, 1), D(2026, 8, 1)):
        assert selectors.persistent_breaches(since=since) == every[:1], since
    assert selectors.persistent_breaches(since=D(2026, 9, 1)) == []
    july = D(2026, 7, 1)
    assert selectors.persistent_breaches(provider_id=world.psoa.pk, since=july) == every[:1]
    assert selectors.persistent_breaches(provider_id=world.tech_provider.pk, since=july) == []


def test_a_missing_month_breaks_the_run(world, on_time):
    for month in (1, 2, 4):
        submit(world, on_time, world.lcs, D(2026, month, 1), "90")
    assert selectors.persistent_breaches() == []


def test_provider_managers_are_told_of_a_breach_once(
    world, on_time, django_capture_on_commit_callbacks
):
    rows = [
        {
            "standard": on_time,
            "cluster": world.pay_psoa,
            "department": world.lcs,
            "period": D(2026, m, 1),
            "value": Decimal("90"),
        }
        for m in (1, 2, 3)
    ]
    with celery_eager(), django_capture_on_commit_callbacks(execute=True):
        services.measurements_submit(actor=world.provider_manager, rows=rows)
    with celery_eager(), django_capture_on_commit_callbacks(execute=True):
        services.measurements_submit(
            actor=world.provider_manager, rows=[{**rows[0], "period": D(2026, 4, 1)}]
        )
    told = [m for m in mail.outbox if m.subject.startswith("Persistent breach")]
    assert len(told) == 1 and told[0].to == [world.provider_manager.email]
    [row] = Notification.objects.filter(kind=NotificationKind.BREACH)
    assert (row.recipient, row.link) == (world.provider_manager, "/providers/PSOA/scorecard/")
    assert BreachNotice.objects.count() == 1


def test_scorecard_counts_expected_received_late_and_missing(world, on_time):
    january = D(2026, 1, 1)
    early = submit(world, on_time, world.lcs, january, "99.9")
    late = submit(world, on_time, world.env, january, "90")
    Measurement.objects.filter(pk=early.pk).update(
        submitted_at=timezone.make_aware(datetime.datetime(2026, 2, 10, 23, 0))
    )
    Measurement.objects.filter(pk=late.pk).update(
        submitted_at=timezone.make_aware(datetime.datetime(2026, 2, 11, 9, 0))
    )
    rows = selectors.provider_scorecard(
        provider_id=world.psoa.pk, start=january, end=D(2026, 3, 1), today=D(2026, 3, 15)
    )
    jan, feb = rows
    # PAY-PSOA has one standard and two members: two returns expected a month.
    assert (jan["cluster"], jan["expected"], jan["received"], jan["late"], jan["missing"]) == (
        "PAY-PSOA",
        2,
        2,
        1,
        0,
    )
    assert (jan["met"], jan["missed"], jan["compliance_rate"]) == (1, 1, Decimal("50.0"))
    assert (feb["expected"], feb["received"], feb["missing"]) == (
        2,
        0,
        2,
    )  # due 10 March, now 15 March
    early_feb = selectors.provider_scorecard(
        provider_id=world.psoa.pk, start=D(2026, 2, 1), end=D(2026, 3, 1), today=D(2026, 3, 5)
    )
    assert early_feb[0]["missing"] == 0  # not yet due


def test_self_preference_flags_a_host_favoured_by_more_than_10_points(world):
    # TECHSVC (hosted by TECH) runs PAY-TECH; TECH is a member and ENV moves in.
    standard = world.payroll.standards.get(name="Paid on time")
    Membership.objects.filter(pk=world.env_payroll.pk).delete()
    env_member = MembershipFactory(
        department=world.env, cluster=world.pay_tech, joined_on=D(2025, 4, 1)
    )
    as_of = D(2026, 7, 15)  # window: January to June 2026
    for month in range(1, 7):
        submit(world, standard, world.tech, D(2026, month, 1), "100", cluster=world.pay_tech)
        submit(
            world,
            standard,
            world.env,
            D(2026, month, 1),
            "100" if month <= 5 else "90",
            cluster=world.pay_tech,
        )
    (row,) = [r for r in selectors.self_preference(as_of=as_of) if r["cluster"] == "PAY-TECH"]
    # host 6/6 = 100%, others 5/6 = 83.3%: a gap of 16.7 points
    assert (
        row["host_department"],
        row["host_rate"],
        row["others_rate"],
        row["gap"],
        row["flagged"],
    ) == (
        "TECH",
        Decimal("100.0"),
        Decimal("83.3"),
        Decimal("16.7"),
        True,
    )
    assert env_member.cluster_id == world.pay_tech.pk


def test_benefits_pro_rata_and_negative_clusters_flagged(world):
    # LCS in PAY-PSOA all of 2025-26 with a 120,000 baseline; ENV left half-way.
    Membership.objects.filter(pk=world.env_payroll.pk).update(
        leaves_on=D(2025, 10, 1), baseline_annual_cost=Decimal("73000")
    )
    for month in range(4, 13):
        CostPool.objects.create(
            cluster=world.pay_psoa, period=D(2025, month, 1), amount=Decimal("15000.00")
        )
    for month in range(1, 4):
        CostPool.objects.create(
            cluster=world.pay_psoa, period=D(2026, month, 1), amount=Decimal("15000.00")
        )
    for month in list(range(4, 13)):
        chargeback_run(actor=None, period=D(2025, month, 1))
    for month in range(1, 4):
        chargeback_run(actor=None, period=D(2026, month, 1))
    # Asked during 2026-27, when 2025-26 is the last complete year: the one flagged.
    report = selectors.benefits(
        fiscal_year="2025-26", service_id=world.payroll.pk, today=D(2026, 7, 15)
    )
    members = {(r["department"], r["cluster"]): r for r in report["members"]}
    env = members[("ENV", "PAY-PSOA")]
    assert env["baseline"] == Decimal("36600.00")  # 73,000 x 183 / 365
    lcs = members[("LCS", "PAY-PSOA")]
    assert lcs["baseline"] == Decimal("120000.00")
    assert lcs["benefit"] == lcs["baseline"] - lcs["charged"]
    pay = next(c for c in report["clusters"] if c["cluster"] == "PAY-PSOA")
    assert pay["benefit"] == env["benefit"] + lcs["benefit"]
    assert pay["charged"] == Decimal("180000.00")  # every pool charged in full
    assert pay["flagged"] == (pay["benefit"] < 0)


def test_alternatives_need_room_and_show_cost_and_compliance(world):
    ClusterFactory(code="PAY-ROOMY", service=world.payroll, provider=world.outside, capacity=1000)
    full = ClusterFactory(
        code="PAY-FULL", service=world.payroll, provider=world.outside, capacity=100
    )
    CostPool.objects.create(cluster=world.pay_tech, period=D(2026, 3, 1), amount=Decimal("1000.00"))
    today = D(2026, 4, 15)
    rows = [
        r
        for r in selectors.alternatives(department_id=world.lcs.pk, today=today)
        if r["cluster"] == "PAY-PSOA"
    ]
    assert [r["alternative"] for r in rows] == [
        "PAY-ROOMY",
        "PAY-TECH",
    ]  # PAY-FULL has no room for 400
    tech = rows[1]
    assert tech["cost_per_unit"] == Decimal("5.0000")  # 1,000 / TECH's 200 units
    assert rows[0]["room"] == 1000 and tech["room"] is None
    assert full.code not in {r["alternative"] for r in rows}
    assert selectors.viable_alternative_counts(department_id=world.lcs.pk, today=today) == {
        "PAY-PSOA": 2
    }


def test_cluster_costs_per_unit(world):
    CostPool.objects.create(cluster=world.pay_psoa, period=D(2026, 3, 1), amount=Decimal("7000.00"))
    (row,) = selectors.cluster_costs(cluster_id=world.pay_psoa.pk)
    assert (row["units"], row["cost_per_unit"]) == (700, Decimal("10.0000"))


def test_a_years_costs_are_the_cluster_costs_of_its_months(world):
    # cluster_year_costs gives, in one row a cluster, what the months of cluster_costs give:
    # members joining and leaving within the years, months without usage (no price) and a
    # cluster without a pool in the year before.
    early = ClusterFactory(code="X-EARLY", service=world.payroll, provider=world.psoa)
    late = ClusterFactory(code="X-LATE", service=world.payroll, provider=world.psoa)
    MembershipFactory(cluster=early, joined_on=D(2024, 6, 15), leaves_on=D(2025, 8, 1))
    MembershipFactory(cluster=early, joined_on=D(2025, 5, 10), usage_units=300)
    MembershipFactory(cluster=late, joined_on=D(2025, 7, 1), usage_units=70)
    for month in range(24):
        period = D(2024 + (month + 3) // 12, (month + 3) % 12 + 1, 1)
        CostPool.objects.create(cluster=early, period=period, amount=Decimal(1000 + 7 * month))
        if period >= D(2025, 4, 1) and month % 5:
            CostPool.objects.create(cluster=late, period=period, amount=Decimal("333.33"))
    start, end, previous_start = D(2025, 4, 1), D(2026, 4, 1), D(2024, 4, 1)

    def per_unit(rows):
        units = sum(r["units"] for r in rows)
        return (sum(r["pool"] for r in rows) / units).quantize(Decimal("0.0001")) if units else None

    expected = {}
    months = selectors.cluster_costs(start=previous_start, end=end)
    for cluster_id in {r["cluster_id"] for r in months if r["period"] >= start}:
        year = [r for r in months if r["cluster_id"] == cluster_id and r["period"] >= start]
        before = [r for r in months if r["cluster_id"] == cluster_id and r["period"] < start]
        priced = [r for r in year if r["cost_per_unit"] is not None]
        expected[cluster_id] = {
            "cluster_id": cluster_id,
            "months": len(year),
            "first_period": priced[0]["period"],
            "first_cost_per_unit": priced[0]["cost_per_unit"],
            "last_period": priced[-1]["period"],
            "last_cost_per_unit": priced[-1]["cost_per_unit"],
            "average_cost_per_unit": per_unit(year),
            "previous_average_cost_per_unit": per_unit(before),
        }
    got = selectors.cluster_year_costs(start=start, end=end, previous_start=previous_start)
    assert {row["cluster_id"]: row for row in got} == expected
    assert set(expected) == {early.pk, late.pk}
    assert expected[late.pk]["first_period"] == D(2025, 8, 1)  # no usage before July, no pool in it
    assert expected[late.pk]["previous_average_cost_per_unit"] is None
    assert expected[early.pk]["first_cost_per_unit"] == Decimal("10.8400")  # 1,084 / 100


def test_reports_use_a_fixed_number_of_queries(world, on_time, django_assert_num_queries):
    def run_all():
        selectors.persistent_breaches()
        selectors.provider_scorecard(
            provider_id=world.psoa.pk, start=D(2026, 1, 1), end=D(2026, 7, 1)
        )
        selectors.self_preference(as_of=D(2026, 7, 15))
        selectors.benefits(fiscal_year="2025-26", today=D(2026, 7, 15))
        selectors.alternatives(department_id=world.lcs.pk, today=D(2026, 7, 15))
        selectors.cluster_costs()

    # breaches 1, scorecard 1, self-preference 1, benefits 1 (2025-26 is the last complete
    # year, so it is also the year flagged), alternatives 3, costs 1
    with django_assert_num_queries(8):
        run_all()
    for i in range(10):
        cluster = ClusterFactory(code=f"X{i}", service=world.payroll, provider=world.psoa)
        MembershipFactory(
            cluster=cluster,
            department=world.fin,
            joined_on=D(2024, 1 + i, 1),
            leaves_on=D(2024, 2 + i, 1),
        )
        CostPool.objects.create(cluster=cluster, period=D(2026, 3, 1), amount=Decimal("10"))
        period = D(2025, 4 + i, 1) if i < 9 else D(2026, 1, 1)
        submit(world, on_time, world.lcs, period, "90")
    with django_assert_num_queries(8):
        run_all()

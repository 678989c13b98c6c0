"""The organisation's rules, through the service functions and in the database."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from clusters import services
from clusters.models import Cluster, Membership, MembershipStatus, Provider, ProviderKind
from sharedsvc.errors import Conflict
from tests.factories import ClusterFactory, DepartmentFactory, ServiceFactory

OVERLAP = str(Membership._meta.constraints[-1].violation_error_message)
D = datetime.date


def test_only_one_psoa_provider(world):
    with pytest.raises(ValidationError) as err:
        services.provider_create(
            actor=world.administrator, code="PSOA2", name="Second PSOA", kind=ProviderKind.PSOA
        )
    assert "only one" in str(err.value)
    assert Provider.objects.filter(kind=ProviderKind.PSOA).count() == 1


def test_second_psoa_refused_by_the_database_too(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Provider.objects.create(code="PSOA2", name="Second PSOA", kind=ProviderKind.PSOA)


def test_department_provider_needs_a_host(world):
    with pytest.raises(ValidationError, match="needs a host department"):
        services.provider_create(
            actor=world.administrator, code="DP", name="Dept provider", kind=ProviderKind.DEPARTMENT
        )
    assert not Provider.objects.filter(code="DP").exists()


def test_external_provider_has_no_host(world):
    with pytest.raises(ValidationError, match="no host department"):
        services.provider_create(
            actor=world.administrator,
            code="EXT",
            name="Ext",
            kind=ProviderKind.EXTERNAL,
            host_department=world.lcs,
        )
    assert not Provider.objects.filter(code="EXT").exists()


def test_codes_are_unique(world):
    with pytest.raises(ValidationError) as err:
        services.department_create(actor=world.administrator, code="LCS", name="Duplicate")
    assert "code" in err.value.message_dict
    assert world.lcs.__class__.objects.filter(code="LCS").count() == 1


def test_pilot_cluster_defaults_to_30_days_notice(world):
    pilot = ServiceFactory(code="PORTAL", lifecycle="pilot", category="portal")
    cluster = services.cluster_create(
        actor=world.administrator,
        code="PORTAL-1",
        name="Portal",
        service=pilot,
        provider=world.psoa,
    )
    live = services.cluster_create(
        actor=world.administrator, code="IT-PSOA", name="IT", service=world.it, provider=world.psoa
    )
    chosen = services.cluster_create(
        actor=world.administrator,
        code="PORTAL-2",
        name="Portal 2",
        service=pilot,
        provider=world.psoa,
        notice_days=60,
    )
    assert Cluster.objects.get(pk=cluster.pk).notice_days == 30
    assert Cluster.objects.get(pk=live.pk).notice_days == 90
    assert Cluster.objects.get(pk=chosen.pk).notice_days == 60


def test_overlapping_memberships_of_one_service_are_refused(world):
    # LCS is in PAY-PSOA from 2025-04-01, open-ended: PAY-TECH from 2026 overlaps.
    with pytest.raises(ValidationError) as err:
        services.membership_create(
            actor=world.administrator,
            department=world.lcs,
            cluster=world.pay_tech,
            joined_on=D(2026, 1, 1),
            usage_units=10,
        )
    assert OVERLAP in err.value.messages
    assert Membership.objects.filter(department=world.lcs, service=world.payroll).count() == 1


def test_a_move_leaves_and_joins_on_the_same_day(world):
    services.membership_update(
        actor=world.administrator, membership=world.lcs_payroll, leaves_on=D(2026, 7, 1)
    )
    moved = services.membership_create(
        actor=world.administrator,
        department=world.lcs,
        cluster=world.pay_tech,
        joined_on=D(2026, 7, 1),
        usage_units=400,
    )
    assert moved.service_id == world.payroll.pk
    assert Membership.objects.filter(department=world.lcs, service=world.payroll).count() == 2


def test_memberships_of_different_services_may_overlap(world):
    assert Membership.objects.filter(department=world.lcs).count() == 2  # PAY and IT, same dates


def test_leaving_date_must_follow_joining(world):
    with pytest.raises(ValidationError, match="after the joining date"):
        services.membership_update(
            actor=world.administrator, membership=world.lcs_payroll, leaves_on=D(2025, 4, 1)
        )
    world.lcs_payroll.refresh_from_db()
    assert world.lcs_payroll.leaves_on is None


def test_membership_status_is_derived_from_dates(world):
    m = world.lcs_payroll
    assert m.status_on(D(2025, 3, 31)) == MembershipStatus.JOINING
    assert m.status_on(D(2025, 4, 1)) == MembershipStatus.ACTIVE
    m.leaves_on = D(2026, 1, 1)
    assert m.status_on(D(2025, 12, 31)) == MembershipStatus.LEAVING
    assert m.status_on(D(2026, 1, 1)) == MembershipStatus.LEFT


def test_membership_service_follows_its_cluster(world):
    # The composite foreign key refuses a membership whose service is not its cluster's.
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "UPDATE clusters_membership SET service_id = %s WHERE id = %s",
            [world.it.pk, world.lcs_payroll.pk],
        )


def test_cluster_service_cannot_change_under_members(world):
    with pytest.raises(ValidationError, match="cannot change"):
        services.cluster_update(actor=world.administrator, cluster=world.pay_psoa, service=world.it)
    assert Cluster.objects.get(pk=world.pay_psoa.pk).service_id == world.payroll.pk


def test_fixed_cost_ratio_between_0_and_1(world):
    with pytest.raises(ValidationError):
        services.cluster_update(
            actor=world.administrator, cluster=world.pay_psoa, fixed_cost_ratio=Decimal("1.5")
        )
    assert Cluster.objects.get(pk=world.pay_psoa.pk).fixed_cost_ratio == Decimal("1.00")


def test_deleting_a_department_in_use_is_a_conflict(world):
    with pytest.raises(Conflict, match="still in use"):
        services.department_delete(actor=world.administrator, department=world.lcs)
    assert world.lcs.__class__.objects.filter(code="LCS").exists()


def test_membership_visibility(world):
    def codes(user):
        return sorted(
            f"{m.department.code}@{m.cluster.code}" for m in Membership.objects.visible_to(user)
        )

    everything = sorted(f"{m.department.code}@{m.cluster.code}" for m in Membership.objects.all())
    assert codes(world.analyst) == everything
    assert codes(world.administrator) == everything
    # LCS sees its own and its co-members in PAY-PSOA (ENV), not TECH's PAY-TECH membership.
    assert codes(world.manager) == ["ENV@PAY-PSOA", "LCS@IT-TECH", "LCS@PAY-PSOA"]
    assert codes(world.provider_manager) == ["ENV@PAY-PSOA", "LCS@PAY-PSOA"]
    assert codes(world.recused_deputy_minister) == []
    assert codes(world.outsider) == []


@pytest.mark.django_db(transaction=True)
def test_simultaneous_overlapping_memberships_leave_exactly_one() -> None:
    """Two administrators add the same department to two clusters of one service at once."""
    from tests.factories import ProviderFactory, UserFactory

    admin = UserFactory(username="admin", role="administrator")
    dept = DepartmentFactory(code="RACE")
    service = ServiceFactory(code="RACES")
    clusters = [
        ClusterFactory(code=f"R{i}", service=service, provider=ProviderFactory(code=f"RP{i}"))
        for i in range(2)
    ]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def add(cluster):
        try:
            barrier.wait()
            services.membership_create(
                actor=admin,
                department=dept,
                cluster=cluster,
                joined_on=D(2026, 1, 1),
                usage_units=5,
            )
            outcomes.append("created")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(c,)) for c in clusters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == sorted(["created", OVERLAP])
    assert Membership.objects.filter(department=dept).count() == 1

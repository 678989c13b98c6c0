"""Issue 9's findings on the organisation's side of the gate, each as a named test:
memberships' baselines (2), current membership (4), the deputy-minister field (6) and the
admin through the named services (7)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client

from clusters.models import DEPUTY_MINISTER_OF_ANOTHER, Cluster, Department, Membership
from clusters.rules import MIN_CONTRIBUTORS, sees_total_over
from clusters.services import CLUSTER_SERVICE_LOCKED, department_update
from sharedsvc.roles import Role
from tests.factories import MembershipFactory, UserFactory


def _rows_by_department(response) -> dict[str, dict]:
    assert response.status_code == 200, response.content[:500]
    return {row["department"]: row for row in response.json()["results"]}


# Finding 2: fellow members see each other's usage, never each other's baseline -------


def test_finding_2_fellow_member_does_not_see_anothers_baseline(world, api):
    Membership.objects.filter(pk=world.env_payroll.pk).update(
        baseline_annual_cost=Decimal("210000.00")
    )
    Membership.objects.filter(pk=world.lcs_payroll.pk).update(
        baseline_annual_cost=Decimal("300000.00")
    )
    rows = _rows_by_department(
        api.as_user(world.manager).get("/api/v1/memberships/?cluster=PAY-PSOA")
    )
    assert set(rows) == {"LCS", "ENV"}
    assert rows["ENV"]["usage_units"] == 300  # usage: shared by the pool
    assert rows["ENV"]["baseline_annual_cost"] is None  # baseline: ENV's own
    assert rows["LCS"]["baseline_annual_cost"] == "300000.00"
    # The figure is there to be hidden: the analyst reads it.
    rows = _rows_by_department(
        api.as_user(world.analyst).get("/api/v1/memberships/?cluster=PAY-PSOA")
    )
    assert rows["ENV"]["baseline_annual_cost"] == "210000.00"


def test_finding_2_provider_sees_usage_but_no_baseline(world, api):
    Membership.objects.filter(cluster=world.pay_psoa).update(baseline_annual_cost=Decimal("1.00"))
    rows = _rows_by_department(
        api.as_user(world.provider_manager).get("/api/v1/memberships/?cluster=PAY-PSOA")
    )
    assert {code: row["usage_units"] for code, row in rows.items()} == {"LCS": 400, "ENV": 300}
    assert {row["baseline_annual_cost"] for row in rows.values()} == {None}


def test_finding_2_baseline_is_null_in_the_csv_too(world, api):
    Membership.objects.filter(pk=world.env_payroll.pk).update(
        baseline_annual_cost=Decimal("210000.00")
    )
    response = api.as_user(world.manager).get("/api/v1/memberships/?cluster=PAY-PSOA&format=csv")
    assert response.status_code == 200
    assert "210000" not in response.getvalue().decode()


def test_totals_over_fewer_than_three_departments_are_withheld(world):
    lcs, env, fin = world.lcs.pk, world.env.pk, world.fin.pk
    assert MIN_CONTRIBUTORS == 3
    assert not sees_total_over(world.manager, {lcs, env})  # would reveal ENV's figure
    assert sees_total_over(world.manager, {lcs})  # its own alone
    assert sees_total_over(world.manager, {lcs, env, fin})
    assert sees_total_over(world.analyst, {env})
    assert not sees_total_over(world.provider_manager, {lcs, env})


# Finding 4: rights from a membership follow its dates -------------------------------


def test_finding_4_former_member_no_longer_sees_fellow_members(world, api):
    MembershipFactory(
        department=world.tech, cluster=world.it_tech, joined_on=datetime.date(2025, 4, 1)
    )
    Membership.objects.filter(pk=world.lcs_it.pk).update(leaves_on=datetime.date(2026, 6, 1))
    rows = _rows_by_department(
        api.as_user(world.manager).get("/api/v1/memberships/?cluster=IT-TECH")
    )
    assert set(rows) == {"LCS"}  # its own past membership only; TECH's is not its business
    assert Membership.objects.filter(cluster=world.it_tech).count() == 2


def test_finding_4_future_member_does_not_yet_see_fellow_members(world, api):
    MembershipFactory(
        department=world.tech, cluster=world.it_tech, joined_on=datetime.date(2025, 4, 1)
    )
    Membership.objects.filter(pk=world.lcs_it.pk).update(joined_on=datetime.date(2030, 1, 1))
    rows = _rows_by_department(
        api.as_user(world.manager).get("/api/v1/memberships/?cluster=IT-TECH")
    )
    assert set(rows) == {"LCS"}
    # The current member sees its fellow current members (LCS is not one yet).
    tech_manager = UserFactory(role=Role.DEPARTMENT_MANAGER, department=world.tech)
    rows = _rows_by_department(
        api.as_user(tech_manager).get("/api/v1/memberships/?cluster=IT-TECH")
    )
    assert set(rows) == {"TECH"}


def test_finding_4_current_member_sees_fellow_members(world, api):
    rows = _rows_by_department(
        api.as_user(world.manager).get("/api/v1/memberships/?cluster=PAY-PSOA")
    )
    assert set(rows) == {"LCS", "ENV"}


# Finding 6: the deputy-minister field takes only a deputy minister of the department --


def test_finding_6_deputy_minister_must_be_of_this_department(world):
    with pytest.raises(ValidationError) as refused:
        department_update(actor=None, department=world.env, deputy_minister=world.deputy_minister)
    assert refused.value.message_dict == {"deputy_minister": [DEPUTY_MINISTER_OF_ANOTHER]}
    assert Department.objects.get(pk=world.env.pk).deputy_minister_id is None


def test_finding_6_deputy_minister_must_have_the_role(world):
    with pytest.raises(ValidationError):
        department_update(actor=None, department=world.lcs, deputy_minister=world.manager)
    assert Department.objects.get(pk=world.lcs.pk).deputy_minister_id == world.deputy_minister.pk


def test_finding_6_api_refuses_another_departments_deputy_minister(world, api):
    response = api.as_user(world.administrator).patch(
        "/api/v1/departments/ENV/", {"deputy_minister": "dm_lcs"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"deputy_minister": [DEPUTY_MINISTER_OF_ANOTHER]}
    assert Department.objects.get(pk=world.env.pk).deputy_minister_id is None


def test_finding_6_a_deputy_minister_of_the_department_is_accepted(world, api):
    env_dm = UserFactory(username="dm_env", role=Role.DEPUTY_MINISTER, department=world.env)
    response = api.as_user(world.administrator).patch(
        "/api/v1/departments/ENV/", {"deputy_minister": "dm_env"}, format="json"
    )
    assert response.status_code == 200
    assert Department.objects.get(pk=world.env.pk).deputy_minister_id == env_dm.pk


# Finding 7: the admin saves through the named services --------------------------------


def _admin(world) -> Client:
    client = Client()
    client.force_login(world.administrator)
    return client


def test_finding_7_admin_cannot_move_a_clusters_members_to_another_service(world):
    response = _admin(world).post(
        f"/admin/clusters/cluster/{world.pay_psoa.pk}/change/",
        {
            "code": "PAY-PSOA",
            "name": "PSOA Payroll",
            "service": world.it.pk,
            "provider": world.psoa.pk,
            "notice_days": "90",
            "capacity": "",
            "fixed_cost_ratio": "1.00",
        },
        follow=True,
    )
    assert CLUSTER_SERVICE_LOCKED in response.content.decode()
    assert Cluster.objects.get(pk=world.pay_psoa.pk).service_id == world.payroll.pk
    assert set(
        Membership.objects.filter(cluster=world.pay_psoa).values_list("service_id", flat=True)
    ) == {world.payroll.pk}


def test_finding_7_the_database_refuses_to_move_members_to_another_service(world):
    # No ON UPDATE CASCADE any more: whatever the door, the database says no.
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE clusters_cluster SET service_id = %s WHERE id = %s",
            [world.it.pk, world.pay_psoa.pk],
        )
    assert Cluster.objects.get(pk=world.pay_psoa.pk).service_id == world.payroll.pk


def test_finding_7_admin_creates_a_cluster_through_cluster_create(world):
    world.payroll.lifecycle = "pilot"
    world.payroll.save()
    response = _admin(world).post(
        "/admin/clusters/cluster/add/",
        {
            "code": "PAY-PILOT",
            "name": "Payroll pilot",
            "service": world.payroll.pk,
            "provider": world.psoa.pk,
            "notice_days": "90",
            "capacity": "",
            "fixed_cost_ratio": "1.00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    # Left at the form's default, the notice is the service's: 30 days for a pilot.
    assert Cluster.objects.get(code="PAY-PILOT").notice_days == 30


def test_finding_7_admin_refuses_another_departments_deputy_minister(world):
    response = _admin(world).post(
        f"/admin/clusters/department/{world.env.pk}/change/",
        {
            "code": "ENV",
            "name": "Environment",
            "is_main": "on",
            "active": "on",
            "deputy_minister": world.deputy_minister.pk,
        },
    )
    assert response.status_code == 200
    assert DEPUTY_MINISTER_OF_ANOTHER in response.content.decode()
    assert Department.objects.get(pk=world.env.pk).deputy_minister_id is None


def test_finding_7_admin_adds_a_deputy_minister_through_user_create(world):
    response = _admin(world).post(
        "/admin/sharedsvc/user/add/",
        {
            "username": "dm_env",
            "password1": "a-long-passphrase-9",
            "password2": "a-long-passphrase-9",
            "usable_password": "true",
            "role": Role.DEPUTY_MINISTER,
            "department": world.env.pk,
            "provider": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    env = Department.objects.select_related("deputy_minister").get(pk=world.env.pk)
    assert env.deputy_minister is not None
    assert env.deputy_minister.username == "dm_env"

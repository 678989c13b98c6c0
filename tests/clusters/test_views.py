"""The organisation's pages: who sees which rows, checked against the database."""

from __future__ import annotations

import datetime

import pytest

from clusters.forms import UNKNOWN_SERVICE
from clusters.models import Cluster, Department, Membership, Service, Standard
from sharedsvc.roles import Role
from tests.factories import (
    ClusterFactory,
    StandardFactory,
    UserFactory,
)
from tests.pages import html
from web.views import (
    CANNOT_SEE_CLUSTER_MEMBERS,
    CANNOT_SEE_DEPARTMENT_MEMBERSHIPS,
    SOME_DEPARTMENT_MEMBERSHIPS,
)

PAGES = [
    "/departments/",
    "/departments/LCS/",
    "/clusters/",
    "/clusters/PAY-PSOA/",
    "/services/",
]


def page(client, user, url, status=200):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status, response.content[:500]
    return response


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_is_sent_to_sign_in(world, client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize(
    "url",
    [
        "/departments/NOPE/",
        "/departments/lcs/",
        "/departments/%00/",
        "/clusters/NOPE/",
        "/clusters/PAY%00PSOA/",
    ],
)
def test_unknown_or_malformed_code_is_404(world, client, url):
    response = page(client, world.analyst, url, status=404)
    assert "Page not found" in html(response)


# --- departments ---------------------------------------------------------------


@pytest.mark.parametrize("persona", ["manager", "provider_manager", "analyst", "administrator"])
def test_department_list_shows_every_department(world, client, persona):
    response = page(client, getattr(world, persona), "/departments/")
    body = html(response)
    departments = list(Department.objects.all())
    assert len(departments) == 4
    for department in departments:
        assert f'href="/departments/{department.code}/"' in body
    assert list(response.context["departments"]) == sorted(departments, key=lambda d: d.name)


@pytest.mark.parametrize("persona", ["manager", "deputy_minister", "analyst", "administrator"])
def test_department_page_shows_all_its_memberships_to_who_may_see_them(world, client, persona):
    response = page(client, getattr(world, persona), "/departments/LCS/")
    body = html(response)
    expected = set(Membership.objects.filter(department=world.lcs))
    assert expected == {world.lcs_payroll, world.lcs_it}
    assert set(response.context["memberships"]) == expected
    for membership in expected:
        assert membership.cluster.name in body
        assert membership.cluster.provider.name in body
        assert f"{membership.cluster.notice_days} days" in body
    assert "1 April 2025" in body
    assert ">Active</strong>" in body
    assert SOME_DEPARTMENT_MEMBERSHIPS not in body


def test_manager_sees_only_shared_clusters_of_another_department(world, client):
    # ENV shares PAY-PSOA with LCS, so ENV's manager sees LCS's payroll membership
    # (what a departure costs those who stay) but not LCS's IT membership.
    response = page(client, world.other_manager, "/departments/LCS/")
    body = html(response)
    assert set(response.context["memberships"]) == {world.lcs_payroll}
    assert world.pay_psoa.name in body
    assert world.it_tech.name not in body
    assert SOME_DEPARTMENT_MEMBERSHIPS in body
    # The basic facts are there for everybody.
    assert world.lcs.name in body and ">LCS<" in body


def test_provider_manager_sees_memberships_of_their_provider_only(world, client):
    response = page(client, world.provider_manager, "/departments/LCS/")
    assert set(response.context["memberships"]) == {world.lcs_payroll}
    assert world.it_tech.name not in html(response)


def test_department_page_hides_memberships_from_an_unrelated_department(world, client):
    fin_manager = UserFactory(
        username="mgr_fin", role=Role.DEPARTMENT_MANAGER, department=world.fin
    )
    response = page(client, fin_manager, "/departments/LCS/")
    body = html(response)
    assert list(response.context["memberships"]) == []
    assert CANNOT_SEE_DEPARTMENT_MEMBERSHIPS in body
    assert world.pay_psoa.name not in body
    assert world.it_tech.name not in body
    assert world.lcs.name in body


def test_department_page_shows_leaving_status_and_date(world, client):
    leaves_on = datetime.date.today() + datetime.timedelta(days=120)
    Membership.objects.filter(pk=world.lcs_it.pk).update(leaves_on=leaves_on)
    body = html(page(client, world.manager, "/departments/LCS/"))
    assert ">Leaving</strong>" in body
    assert f"leaves {leaves_on.day} {leaves_on:%B %Y}" in body


# --- clusters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["analyst", "administrator", "provider_manager", "manager", "other_manager"]
)
def test_cluster_page_shows_members_and_usage_to_who_may_see_them(world, client, persona):
    response = page(client, getattr(world, persona), "/clusters/PAY-PSOA/")
    body = html(response)
    members = set(Membership.objects.filter(cluster=world.pay_psoa))
    assert members == {world.lcs_payroll, world.env_payroll}
    assert set(response.context["members"]) == members
    for membership in members:
        assert membership.department.name in body
        assert f">{membership.usage_units}</td>" in body
    total = sum(m.usage_units for m in members)
    assert f"{total} (charged per {world.payroll.charging_unit})" in body
    assert world.psoa.name in body and world.payroll.name in body
    assert CANNOT_SEE_CLUSTER_MEMBERS not in body


@pytest.mark.parametrize("persona", ["other_provider_manager", "tech_manager"])
def test_cluster_page_hides_members_from_others(world, client, persona):
    tech_manager = UserFactory(
        username="mgr_tech", role=Role.DEPARTMENT_MANAGER, department=world.tech
    )
    user = tech_manager if persona == "tech_manager" else getattr(world, persona)
    response = page(client, user, "/clusters/PAY-PSOA/")
    body = html(response)
    assert list(response.context["members"]) == []
    assert CANNOT_SEE_CLUSTER_MEMBERS in body
    assert world.lcs.name not in body and world.env.name not in body
    # The cluster's own facts are public to everyone signed in.
    assert world.pay_psoa.name in body and f"{world.pay_psoa.notice_days} days" in body


def test_cluster_without_members(world, client):
    empty = ClusterFactory(
        code="PAY-ACME", name="Acme Payroll", service=world.payroll, provider=world.outside
    )
    body = html(page(client, world.analyst, f"/clusters/{empty.code}/"))
    assert "This cluster has no members yet." in body
    assert CANNOT_SEE_CLUSTER_MEMBERS not in body


def test_cluster_list_groups_every_cluster_by_service(world, client) -> None:
    response = page(client, world.manager, "/clusters/")
    body = html(response)
    groups = {g.service.code: [c.code for c in g.clusters] for g in response.context["groups"]}
    expected: dict[str, list[str]] = {}
    for cluster in Cluster.objects.order_by("name"):
        expected.setdefault(cluster.service.code, []).append(cluster.code)
    assert groups == expected == {"PAY": ["PAY-PSOA", "PAY-TECH"], "IT": ["IT-TECH"]}
    for cluster in Cluster.objects.all():
        assert f'href="/clusters/{cluster.code}/"' in body


def test_cluster_list_filters_by_service(world, client):
    response = page(client, world.manager, "/clusters/?service=PAY")
    body = html(response)
    assert [g.service.code for g in response.context["groups"]] == ["PAY"]
    assert 'href="/clusters/PAY-PSOA/"' in body and 'href="/clusters/PAY-TECH/"' in body
    assert 'href="/clusters/IT-TECH/"' not in body
    assert '<option value="PAY" selected>' in body


@pytest.mark.parametrize("value", ["NOPE", "PAY%00", "pay"])
def test_cluster_list_refuses_an_unknown_service_with_an_error_summary(world, client, value):
    response = page(client, world.manager, f"/clusters/?service={value}", status=400)
    body = html(response)
    assert "govuk-error-summary" in body
    assert f'<a href="#id_service">{UNKNOWN_SERVICE}</a>' in body
    assert 'id="id_service-error"' in body
    assert "<title>Error: " in body


# --- the service catalogue ------------------------------------------------------------


def test_service_catalogue_shows_services_standards_and_clusters(world, client):
    standard = StandardFactory(
        service=world.payroll, name="Payslips correct", unit="%", target="100"
    )
    response = page(client, world.provider_manager, "/services/")
    body = html(response)
    services = list(Service.objects.order_by("name"))
    assert list(response.context["services"]) == services
    for service in services:
        assert f'id="service-{service.code}"' in body
        assert service.charging_unit in body
        for cluster in Cluster.objects.filter(service=service):
            assert f'href="/clusters/{cluster.code}/"' in body
    assert standard.name in body and "Higher is better" in body and "100 %" in body
    assert "99.5 %" in body  # the personas' "Paid on time" target, 99.5000
    for each in Standard.objects.all():
        assert each.name in body
    assert "Payroll" in body and "Efficiency" in body and "Internal" in body

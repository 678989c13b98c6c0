"""The Django admin writes through the service layer and shows rule violations as errors."""

from __future__ import annotations

import pghistory.models
from django.test import Client

from clusters.models import Membership


def test_admin_refuses_an_overlapping_membership_with_a_message(world):
    client = Client()
    client.force_login(world.administrator)
    response = client.post(
        "/admin/clusters/membership/add/",
        {
            "department": world.lcs.pk,
            "cluster": world.pay_tech.pk,
            "joined_on": "2026-01-01",
            "usage_units": "10",
            "baseline_annual_cost": "0",
        },
    )
    assert response.status_code == 200
    assert "already in a cluster of this service" in response.content.decode()
    assert Membership.objects.filter(department=world.lcs, service=world.payroll).count() == 1


def test_admin_change_is_audited_with_its_actor(world):
    client = Client()
    client.force_login(world.administrator)
    response = client.post(
        f"/admin/clusters/department/{world.env.pk}/change/",
        {
            "code": "ENV",
            "name": "Environment and Climate",
            "is_main": "on",
            "active": "on",
            "deputy_minister": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    world.env.refresh_from_db()
    assert world.env.name == "Environment and Climate"
    event = pghistory.models.Events.objects.filter(
        pgh_obj_model="clusters.Department", pgh_obj_id=str(world.env.pk), pgh_label="update"
    ).get()
    assert event.pgh_context["user"] == world.administrator.pk
    assert event.pgh_diff["name"] == ["Environment", "Environment and Climate"]

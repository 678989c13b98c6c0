"""The Django admin writes through the service layer and shows rule violations as errors."""

from __future__ import annotations

import pghistory.models
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.core.paginator import Paginator
from django.test import Client

from clusters.models import Membership
from sharedsvc.admin import EventsPaginator


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


def test_the_user_form_has_no_permission_tables(world):
    # Roles grant every permission (the rules backend; no permission table is read), so
    # the form shows neither Django's groups nor its per-user permissions.
    client = Client()
    client.force_login(world.administrator)
    response = client.get(f"/admin/sharedsvc/user/{world.manager.pk}/change/")
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "groups" not in form.fields and "user_permissions" not in form.fields
    assert {"username", "is_active", "role", "department", "provider"} <= set(form.fields)


def test_the_list_checkboxes_are_djangos(world):
    membership_admin = admin.site._registry[Membership]
    for membership in Membership.objects.select_related("department", "cluster"):
        assert membership_admin.action_checkbox(membership) == ModelAdmin.action_checkbox(
            membership_admin, membership
        )


def test_the_audit_list_pages_hold_what_a_plain_page_holds(world):
    # The events of the world's set-up, two to a page, newest first: each page read in two
    # steps (the keys, then those events) holds the same events, data and diffs.
    events = pghistory.models.Events.objects.order_by("-pgh_created_at", "-pgh_slug")
    total = events.count()
    assert total > 4
    plain, ours = Paginator(events, 2), EventsPaginator(events, 2)
    seen = []
    for number in plain.page_range:
        want = [(e.pgh_slug, e.pgh_data, e.pgh_diff) for e in plain.page(number).object_list]
        got = [(e.pgh_slug, e.pgh_data, e.pgh_diff) for e in ours.page(number).object_list]
        assert got == want, number
        seen += got
    assert len(seen) == total
    updates = events.filter(pgh_label="update")
    assert [e.pgh_slug for e in EventsPaginator(updates, 100).page(1).object_list] == [
        e.pgh_slug for e in updates
    ]

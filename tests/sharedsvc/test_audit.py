"""The audit trail: who changed what and when, before and after, and nobody can edit it."""

from __future__ import annotations

import csv
import io
import json

import pghistory.models
import pytest
from django.contrib.auth.hashers import identify_hasher
from django.db import DatabaseError, connection, transaction

from clusters.models import Department
from sharedsvc.api import renderers, views
from sharedsvc.api.views import AUDIT_FORBIDDEN

EVENTS = "/api/v1/audit-events/"


def events_of(api, user, **query) -> list[dict]:
    response = api.as_user(user).get(EVENTS, {"page_size": "1000", **query})
    assert response.status_code == 200, response.content
    return response.json()["results"]


# What an event says ------------------------------------------------------------------


def test_an_api_insert_records_actor_url_and_the_new_row(world, api):
    response = api.as_user(world.administrator).post(
        "/api/v1/departments/", {"code": "NEW", "name": "New Ministry"}
    )
    assert response.status_code == 201
    new = Department.objects.get(code="NEW")
    [event] = events_of(api, world.analyst, model="clusters.Department", object_id=str(new.pk))
    assert event["action"] == "insert"
    assert event["actor"] == "admin"
    assert event["url"] == "/api/v1/departments/"
    assert event["model"] == "clusters.Department"
    assert event["before"] is None
    assert event["after"]["code"] == "NEW"
    assert event["after"]["name"] == "New Ministry"
    assert event["changes"] is None
    assert event["at"]


def test_an_api_update_records_before_after_and_the_changes(world, api):
    response = api.as_user(world.administrator).patch(
        "/api/v1/departments/ENV/", {"name": "Environment and Parks", "is_main": False}
    )
    assert response.status_code == 200
    [event] = events_of(
        api,
        world.analyst,
        model="clusters.Department",
        object_id=str(world.env.pk),
        action="update",
    )
    assert event["actor"] == "admin"
    assert event["url"] == "/api/v1/departments/ENV/"
    assert event["changes"] == {
        "is_main": {"before": True, "after": False},
        "name": {"before": "Environment", "after": "Environment and Parks"},
    }
    assert event["before"]["name"] == "Environment"
    assert event["before"]["is_main"] is True
    assert event["before"]["code"] == "ENV"  # unchanged fields are in both
    assert event["after"]["name"] == "Environment and Parks"
    assert event["after"]["is_main"] is False
    assert event["after"]["code"] == "ENV"


def test_an_api_delete_records_the_deleted_row_as_before(world, api):
    spare = Department.objects.create(code="SPARE", name="Spare")
    response = api.as_user(world.administrator).delete("/api/v1/departments/SPARE/")
    assert response.status_code == 204
    [event] = events_of(
        api, world.analyst, model="clusters.Department", object_id=str(spare.pk), action="delete"
    )
    assert event["actor"] == "admin"
    assert event["url"] == "/api/v1/departments/SPARE/"
    assert event["before"]["code"] == "SPARE"
    assert event["after"] is None
    assert event["changes"] is None


def test_membership_changes_are_audited_with_codes_resolvable(world, api):
    response = api.as_user(world.administrator).patch(
        f"/api/v1/memberships/{world.lcs_it.pk}/", {"usage_units": 360}
    )
    assert response.status_code == 200
    [event] = events_of(api, world.administrator, model="clusters.Membership", action="update")
    assert event["object_id"] == str(world.lcs_it.pk)
    assert event["changes"] == {"usage_units": {"before": 350, "after": 360}}
    assert event["after"]["department_id"] == world.lcs.pk


def test_a_refused_change_writes_no_event(world, api):
    before = pghistory.models.Events.objects.count()
    response = api.as_user(world.administrator).post(
        "/api/v1/providers/", {"code": "P2", "name": "Second PSOA", "kind": "psoa"}
    )
    assert response.status_code == 400
    assert pghistory.models.Events.objects.count() == before


def test_filters_by_actor_action_and_time(world, api):
    api.as_user(world.administrator).patch("/api/v1/departments/ENV/", {"name": "E"})
    mine = events_of(api, world.analyst, actor="admin")
    assert [e["action"] for e in mine] == ["update"]
    assert events_of(api, world.analyst, actor="analyst") == []
    assert len(events_of(api, world.analyst, at_after="2000-01-01T00:00:00Z")) > 1
    assert events_of(api, world.analyst, at_before="2000-01-01T00:00:00Z") == []
    # Offsets PostgreSQL itself would refuse are read, not passed on (a 500 before).
    assert events_of(api, world.analyst, at_before="2000-01-01T00:00:00+18:53") == []


def test_event_detail_by_id(world, api):
    event = events_of(api, world.analyst, model="clusters.Department")[0]
    response = api.as_user(world.analyst).get(f"{EVENTS}{event['id']}/")
    assert response.status_code == 200
    assert response.json() == event


def test_events_as_csv(world, api):
    api.as_user(world.administrator).patch("/api/v1/departments/ENV/", {"name": "E"})
    response = api.as_user(world.analyst).get(
        EVENTS,
        {"format": "csv", "action": "update", "model": "clusters.Department", "actor": "admin"},
    )
    assert response.status_code == 200
    row, *rest = csv.DictReader(io.StringIO(response.getvalue().decode()))
    assert rest == []
    # Before, after and the changes are a JSON cell each, whatever the model.
    assert json.loads(row["changes"]) == {"name": {"before": "Environment", "after": "E"}}
    assert json.loads(row["before"])["name"] == "Environment"
    assert json.loads(row["after"])["name"] == "E"
    assert row["model"] == "clusters.Department" and row["actor"] == "admin"
    assert Department.objects.get(code="ENV").name == "E"


def test_a_mixed_trail_as_csv_loses_no_value(world, api, monkeypatch):
    """Events of many models streamed past the rows the header is read from: every value
    of every event is in the file (none dropped for a column the header lacks)."""
    monkeypatch.setattr(renderers, "LOOK_AHEAD", 2)
    monkeypatch.setattr(renderers, "CHUNK", 2)
    monkeypatch.setattr(views, "CHUNK", 2)
    api.as_user(world.administrator).patch("/api/v1/departments/ENV/", {"name": "E"})
    body = api.as_user(world.analyst).get(EVENTS, {"format": "csv"}).getvalue().decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    records = events_of(api, world.analyst, page_size="500")
    assert len(rows) == len(records) > 4
    assert len({r["model"] for r in rows}) > 2
    for row, record in zip(rows, records, strict=True):
        assert row["id"] == record["id"]
        for name in ("before", "after", "changes"):
            assert (json.loads(row[name]) if row[name] else None) == record[name]


# Who may read it -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("administrator", 200),
        ("analyst", 200),
        ("manager", 403),
        ("other_manager", 403),
        ("deputy_minister", 403),
        ("recused_deputy_minister", 403),
        ("provider_manager", 403),
        ("other_provider_manager", 403),
        ("outsider", 401),
        ("anonymous", 401),
    ],
)
def test_only_analysts_and_administrators_read_events(world, api, persona, status):
    user = world.personas()[persona]
    client = api.as_user(user)
    event_id = pghistory.models.Events.objects.order_by("pgh_created_at").first().pgh_slug
    for url in (EVENTS, f"{EVENTS}{event_id}/"):
        response = client.get(url)
        assert response.status_code == status, (url, response.content)
        if status == 403:
            assert response.json()["detail"] == AUDIT_FORBIDDEN


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_nobody_writes_events_through_the_api(world, api, method):
    event_id = pghistory.models.Events.objects.order_by("pgh_created_at").first().pgh_slug
    before = pghistory.models.Events.objects.count()
    for user in (world.administrator, world.analyst):
        url = EVENTS if method == "post" else f"{EVENTS}{event_id}/"
        response = getattr(api.as_user(user), method)(url, {"pgh_label": "x"})
        assert response.status_code == 405
    assert pghistory.models.Events.objects.count() == before


# Append-only in the database ------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE clusters_departmentevent SET name = 'Forged' WHERE pgh_id = %s",
        "DELETE FROM clusters_departmentevent WHERE pgh_id = %s",
        "UPDATE clusters_membershipevent SET usage_units = 1 WHERE pgh_obj_id = %s",
        "DELETE FROM sharedsvc_userevent WHERE pgh_id = %s",
    ],
)
def test_events_cannot_be_edited_or_deleted_even_with_raw_sql(world, statement):
    table = statement.split()[1] if statement.startswith("UPDATE") else statement.split()[2]
    key = "pgh_obj_id" if "pgh_obj_id" in statement else "pgh_id"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {key}, row_to_json(t)::text FROM {table} t ORDER BY pgh_id LIMIT 1")
        target, row_before = cursor.fetchone()
        count_before = _count(cursor, table)
    with (
        pytest.raises(DatabaseError, match="append_only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [target])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT row_to_json(t)::text FROM {table} t WHERE {key} = %s ORDER BY pgh_id LIMIT 1",
            [target],
        )
        assert cursor.fetchone()[0] == row_before
        assert _count(cursor, table) == count_before


def _count(cursor, table: str) -> int:
    cursor.execute(f"SELECT count(*) FROM {table}")
    return cursor.fetchone()[0]


# Secrets stay out --------------------------------------------------------------------


def test_user_events_hold_no_password_hash(world, api):
    world.manager.set_password("a-new-long-password-2026")
    world.manager.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(e)::text FROM sharedsvc_userevent e")
        rows = [r[0] for r in cursor.fetchall()]
    assert rows, "users are audited"
    assert not any("password" in row for row in rows)
    assert not any(world.manager.password in row for row in rows)
    for event in events_of(api, world.administrator, model="sharedsvc.User"):
        assert "password" not in (event["after"] or {})
        assert "password" not in (event["before"] or {})
        for value in (event["after"] or {}).values():
            if isinstance(value, str) and "$" in value:
                with pytest.raises(ValueError):
                    identify_hasher(value)

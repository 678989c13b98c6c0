"""`/api/v1/notifications/`: a user's own notifications, filtered, as CSV, and marked
read by command views that call the services."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.test import Client
from django.utils import timezone

from notifications.models import Notification, NotificationKind
from notifications.services import notify
from tests.pages import count_queries

URL = "/api/v1/notifications/"


def tell(user, subject: str, *, kind=NotificationKind.EXIT_NOTICE, link="/exit-requests/1/"):
    [row] = notify(recipients=[user], kind=kind, subject=subject, body=f"{subject}.", link=link)
    return row


@pytest.fixture
def inbox(world):
    """The LCS manager's: an old read breach, a notice, a case; and one of ENV's."""
    old = tell(
        world.manager, "Old breach", kind=NotificationKind.BREACH, link="/providers/PSOA/scorecard/"
    )
    Notification.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=10),
        read_at=timezone.now() - datetime.timedelta(days=9),
    )
    notice = tell(world.manager, "A notice")
    case = tell(world.manager, "A case", kind=NotificationKind.CASE_OPENED, link="/cases/4/")
    theirs = tell(world.other_manager, "Theirs")
    return {"old": old, "notice": notice, "case": case, "theirs": theirs}


def test_the_list_is_mine_newest_first(world, api, inbox):
    data = api.as_user(world.manager).get(URL).json()
    assert data["count"] == 3
    assert [r["subject"] for r in data["results"]] == ["A case", "A notice", "Old breach"]
    first = data["results"][0]
    assert first == {
        "id": inbox["case"].pk,
        "recipient": "mgr_lcs",
        "kind": "case_opened",
        "subject": "A case",
        "body": "A case.",
        "link": "/cases/4/",
        "created_at": first["created_at"],
        "read": False,
        "read_at": None,
        "emailed_at": None,
    }
    assert data["results"][2]["read"] is True and data["results"][2]["read_at"] is not None


@pytest.mark.parametrize("persona", ["administrator", "analyst", "provider_manager"])
def test_nobody_lists_anothers(world, api, inbox, persona):
    data = api.as_user(getattr(world, persona)).get(URL).json()
    assert data["count"] == 0 and data["results"] == []


@pytest.mark.parametrize(
    ("query", "subjects"),
    [
        ("kind=breach", ["Old breach"]),
        ("kind=case_opened", ["A case"]),
        ("read=true", ["Old breach"]),
        ("read=false", ["A case", "A notice"]),
        ("read=", ["A case", "A notice", "Old breach"]),
        ("read=false&kind=exit_notice", ["A notice"]),
    ],
)
def test_filters(world, api, inbox, query, subjects):
    data = api.as_user(world.manager).get(f"{URL}?{query}").json()
    assert [r["subject"] for r in data["results"]] == subjects


def test_created_at_range(world, api, inbox):
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    client = api.as_user(world.manager)
    recent = client.get(URL, {"created_at_after": since}).json()
    assert [r["subject"] for r in recent["results"]] == ["A case", "A notice"]
    older = client.get(URL, {"created_at_before": since}).json()
    assert [r["subject"] for r in older["results"]] == ["Old breach"]


@pytest.mark.parametrize(
    "query", ["kind=nope", "read=maybe", "created_at_after=yesterday", "page_size=0"]
)
def test_bad_filters_are_a_400(world, api, inbox, query):
    response = api.as_user(world.manager).get(f"{URL}?{query}")
    assert response.status_code == 400
    assert response.json()


def test_csv_is_the_whole_filtered_list_of_mine(world, api, inbox):
    response = api.as_user(world.manager).get(URL, {"format": "csv", "read": "false"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert [(r["subject"], r["kind"], r["read"], r["link"]) for r in rows] == [
        ("A case", "case_opened", "False", "/cases/4/"),
        ("A notice", "exit_notice", "False", "/exit-requests/1/"),
    ]
    assert "Theirs" not in response.getvalue().decode()


def test_detail_of_mine_and_404_for_anothers(world, api, inbox):
    mine = api.as_user(world.manager).get(f"{URL}{inbox['notice'].pk}/")
    assert mine.status_code == 200 and mine.json()["subject"] == "A notice"
    for persona in ("administrator", "analyst", "other_provider_manager"):
        response = api.as_user(getattr(world, persona)).get(f"{URL}{inbox['notice'].pk}/")
        assert response.status_code == 404 and "detail" in response.json()
    assert api.as_user(world.manager).get(f"{URL}{inbox['theirs'].pk}/").status_code == 404


def test_mark_one_read(world, api, inbox):
    client = api.as_user(world.manager)
    response = client.post(f"{URL}{inbox['notice'].pk}/read/")
    assert response.status_code == 200
    assert response.json()["read"] is True
    stored = Notification.objects.get(pk=inbox["notice"].pk)
    assert stored.read_at is not None
    # Again: the same answer, the first reading stands.
    again = client.post(f"{URL}{inbox['notice'].pk}/read/").json()
    assert again["read_at"] == response.json()["read_at"]
    assert Notification.objects.get(pk=inbox["case"].pk).read_at is None


def test_marking_anothers_is_a_404(world, api, inbox):
    for persona in ("administrator", "other_manager", "analyst"):
        response = api.as_user(getattr(world, persona)).post(f"{URL}{inbox['notice'].pk}/read/")
        assert response.status_code == 404
    assert Notification.objects.get(pk=inbox["notice"].pk).read_at is None


def test_mark_all_read(world, api, inbox):
    client = api.as_user(world.manager)
    response = client.post(f"{URL}read-all/")
    assert response.status_code == 200 and response.json() == {"marked": 2}
    assert not Notification.objects.filter(recipient=world.manager, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=inbox["theirs"].pk).read_at is None
    assert client.post(f"{URL}read-all/").json() == {"marked": 0}


def test_nothing_else_is_written(world, api, inbox):
    client = api.as_user(world.manager)
    assert client.post(URL, {"subject": "x"}, format="json").status_code == 405
    assert (
        client.patch(f"{URL}{inbox['notice'].pk}/", {"subject": "x"}, format="json").status_code
        == 405
    )
    assert client.delete(f"{URL}{inbox['notice'].pk}/").status_code == 405
    assert Notification.objects.get(pk=inbox["notice"].pk).subject == "A notice"


def test_signed_out_is_401(world, api, inbox):
    assert api.as_user(None).get(URL).status_code == 401
    assert api.as_user(None).post(f"{URL}read-all/").status_code == 401
    assert Notification.objects.filter(read_at__isnull=True).count() == 3


@pytest.mark.parametrize(
    ("url", "pinned"),
    [
        (URL, 4),  # session, user, count, the page (recipients joined)
        (f"{URL}?format=csv", 4),  # session, user, every row
        (f"{URL}?read=false&kind=exit_notice", 4),
    ],
)
def test_the_list_runs_the_same_queries_at_two_sizes(world, url, pinned):
    client = Client()
    client.force_login(world.manager)
    tell(world.manager, "First")
    small = count_queries(client, url)
    for i in range(30):
        tell(
            world.manager,
            f"More {i}",
            kind=(NotificationKind.EXIT_NOTICE, NotificationKind.BREACH)[i % 2],
        )
        tell(world.other_manager, f"Theirs {i}")
    large = count_queries(client, url)
    assert (small, large) == (pinned, pinned)
    assert Notification.objects.count() == 61

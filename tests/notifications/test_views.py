"""The notifications pages: the inbox (the user's own, newest first, unread marked, each
with its link), the forms that mark them read without JavaScript, and the header's unread
count on every page."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from notifications import views
from notifications.models import Notification, NotificationKind
from notifications.services import notify
from tests.pages import count_queries, text

URL = "/notifications/"


def tell(user, subject: str, *, link: str = "/exit-requests/", kind=NotificationKind.EXIT_NOTICE):
    [row] = notify(recipients=[user], kind=kind, subject=subject, body=f"{subject}.", link=link)
    return row


def signed_in(client: Client, user) -> Client:
    client.force_login(user)
    return client


def test_the_inbox_lists_my_own_newest_first_with_unread_marked(world, client):
    older = tell(world.manager, "Older news", link="/cases/")
    Notification.objects.filter(pk=older.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=2), read_at=timezone.now()
    )
    newer = tell(world.manager, "Newer news", link="/exit-requests/3/")
    tell(world.other_manager, "Not for you")
    response = signed_in(client, world.manager).get(URL)
    assert response.status_code == 200
    listed = list(response.context["notifications"])
    assert listed == [newer, Notification.objects.get(pk=older.pk)]
    page = response.content.decode()
    words = text(response)
    assert "Not for you" not in words
    assert 'href="/exit-requests/3/"' in page and 'href="/cases/"' in page
    assert "You have 1 unread notification." in words
    # The unread one has its tag and its own button; the read one neither.
    assert words.count("Unread") == 1
    assert f'action="/notifications/{newer.pk}/read/"' in page
    assert f'action="/notifications/{older.pk}/read/"' not in page
    assert "Mark all as read" in words
    tell(world.manager, "Newest news")
    assert "You have 2 unread notifications." in text(client.get(URL))


def test_an_empty_inbox_says_so(world, client):
    response = signed_in(client, world.analyst).get(URL)
    assert response.status_code == 200
    assert "You have no notifications." in text(response)
    assert "Mark all as read" not in text(response)
    assert not Notification.objects.exists()


def test_the_header_counts_my_unread_on_every_page(world, client):
    tell(world.manager, "One")
    tell(world.manager, "Two")
    read = tell(world.manager, "Three")
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    tell(world.other_manager, "Theirs")
    response = signed_in(client, world.manager).get("/clusters/")
    header = re.search(
        r'<a [^>]*id="header-notifications"[^>]*>(.*?)</a>', response.content.decode()
    )
    assert header is not None
    assert " ".join(re.sub(r"<[^>]+>", " ", header.group(1)).split()) == "Notifications 2 unread"
    # Nothing unread: the link without a count.
    Notification.objects.filter(recipient=world.manager).update(read_at=timezone.now())
    response = client.get("/clusters/")
    assert 'id="header-notifications"' in response.content.decode()
    assert response.context["unread_notifications"] == 0


def test_the_signed_out_get_no_count(client, world):
    response = client.get("/accounts/login/")
    assert "unread_notifications" not in response.context
    assert 'id="header-notifications"' not in response.content.decode()


def test_mark_as_read_goes_back_to_the_same_page(world, client):
    row = tell(world.manager, "Read me")
    response = signed_in(client, world.manager).post(
        f"/notifications/{row.pk}/read/", {"page": "2"}
    )
    assert response.status_code == 302 and response["Location"] == f"{URL}?page=2"
    row.refresh_from_db()
    assert row.read_at is not None
    page = client.get(URL)
    assert views.MARKED_READ.format(subject="Read me") in text(page)
    assert page.context["unread_notifications"] == 0


@pytest.mark.parametrize("page", ["", "1", "0", "x", "-3", "²"])
def test_the_return_page_is_a_plain_number_or_the_first(world, client, page):
    row = tell(world.manager, "Read me")
    response = signed_in(client, world.manager).post(
        f"/notifications/{row.pk}/read/", {"page": page}
    )
    assert response["Location"] == URL


def test_mark_all_as_read_marks_only_mine(world, client):
    tell(world.manager, "One")
    tell(world.manager, "Two")
    theirs = tell(world.other_manager, "Theirs")
    response = signed_in(client, world.manager).post("/notifications/read-all/")
    assert response.status_code == 302 and response["Location"] == URL
    assert not Notification.objects.filter(recipient=world.manager, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert views.ALL_MARKED_READ.format(count=2) in text(client.get(URL))
    client.post("/notifications/read-all/")
    assert views.NONE_UNREAD in text(client.get(URL))


@pytest.mark.parametrize("persona", ["administrator", "analyst", "other_manager"])
def test_another_users_notification_is_not_found(world, client, persona):
    row = tell(world.manager, "Mine alone")
    response = signed_in(client, getattr(world, persona)).post(f"/notifications/{row.pk}/read/")
    assert response.status_code == 404
    assert Notification.objects.get(pk=row.pk).read_at is None
    assert "Mine alone" not in text(client.get(URL))


def test_the_forms_need_the_csrf_token(world):
    row = tell(world.manager, "Guarded")
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.manager)
    assert client.post(f"/notifications/{row.pk}/read/").status_code == 403
    assert client.post("/notifications/read-all/").status_code == 403
    assert Notification.objects.get(pk=row.pk).read_at is None
    # The page's own forms carry it.
    assert 'name="csrfmiddlewaretoken"' in client.get(URL).content.decode()


def test_the_inbox_is_paginated(world, client):
    rows = [tell(world.manager, f"News {i:02d}") for i in range(views.PER_PAGE + 3)]
    response = signed_in(client, world.manager).get(f"{URL}?page=2")
    assert [n.subject for n in response.context["notifications"]] == [
        "News 02",
        "News 01",
        "News 00",
    ]
    assert 'aria-label="Page 2 of 2"' in response.content.decode()
    assert len(rows) == views.PER_PAGE + 3


def test_the_inbox_runs_the_same_queries_at_two_sizes(world, client):
    # session, user, the user's department (navigation), count, the page, the header's
    # unread count
    pinned = 6
    tell(world.manager, "First")
    signed_in(client, world.manager)
    small = count_queries(client, URL)
    for i in range(30):
        row = tell(world.manager, f"More {i}", kind=NotificationKind.BREACH)
        if i % 2:
            Notification.objects.filter(pk=row.pk).update(read_at=timezone.now())
        tell(world.other_manager, f"Theirs {i}")
    large = count_queries(client, URL)
    assert (small, large) == (pinned, pinned)
    assert Notification.objects.filter(recipient=world.manager).count() == 31

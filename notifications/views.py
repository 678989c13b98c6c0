"""Pages of a user's notifications: the inbox (newest first, unread ones marked) and the
two forms that mark them read, which work without JavaScript.

Every read goes through `Notification.objects.visible_to` (another user's notification is
404); every write goes through `notifications.services` with the signed-in user as the
actor. The list runs a constant number of queries whatever the number of notifications.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from notifications import services
from notifications.models import Notification

# Messages people see, reused by the tests.
MARKED_READ = "Marked as read: {subject}"
ALL_MARKED_READ = "{count} notifications marked as read."
ONE_MARKED_READ = "1 notification marked as read."
NONE_UNREAD = "You have no unread notifications."

PER_PAGE = 25


def _back_to_list(request: HttpRequest) -> HttpResponse:
    """Back to the page of the list the form was on (a page number, or the first)."""
    page = request.POST.get("page", "")
    url = reverse("notifications:list")
    if page.isascii() and page.isdigit() and int(page) > 1:
        url += f"?page={int(page)}"
    return redirect(url)


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """The user's own notifications, newest first, 25 a page (2 queries: count, page; the
    header's unread count is the context processor's one)."""
    notifications = Notification.objects.visible_to(request.user).order_by("-created_at", "-id")
    page = Paginator(notifications, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/notification_list.html",
        {"page": page, "notifications": page.object_list},
    )


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification.objects.visible_to(request.user), pk=pk)
    services.notification_mark_read(actor=request.user, notification=notification)
    messages.success(request, MARKED_READ.format(subject=notification.subject))
    return _back_to_list(request)


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(actor=request.user)
    if count == 0:
        messages.info(request, NONE_UNREAD)
    elif count == 1:
        messages.success(request, ONE_MARKED_READ)
    else:
        messages.success(request, ALL_MARKED_READ.format(count=count))
    return _back_to_list(request)

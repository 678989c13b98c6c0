"""The header's count of unread notifications, on every page for signed-in users."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from notifications.models import Notification


def unread_notifications(request) -> dict:
    """`unread_notifications`: one query, and only when a template shows it (an API
    answer or a page without the header asks nothing)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": SimpleLazyObject(
            lambda: Notification.objects.visible_to(user).unread().count()
        )
    }

"""The header's count of what needs the signed-in user, on every page (issue 16)."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from web.needs import needs_count


def needs(request) -> dict:
    """`needs_count`: read only when a template shows it (the header, for a signed-in
    person with a role), from the session while fresh (`web.needs.needs_count`)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return {}
    return {"needs_count": SimpleLazyObject(lambda: needs_count(request))}

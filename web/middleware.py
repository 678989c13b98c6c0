"""The header's count of what needs the user is forgotten when the user changes something
(a POST, PUT, PATCH or DELETE through a page), so acting on an item takes it off the
count on the next page instead of a minute later (`web.needs`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import SAFE_METHODS

from web.needs import needs_count_forget


class NeedsCountMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # After the view: what it changed is what the next count must see. A session that
        # holds no count is not touched, so this costs nothing when there is none.
        if request.method not in SAFE_METHODS and hasattr(request, "session"):
            needs_count_forget(request)
        return response

"""The start page: what the signed-in user acts for, and where to go."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clusters import selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    # A user's department and provider are set only for the roles that act for one (the
    # database checks it), so they say what the user acts for without asking the role.
    return render(
        request,
        "sharedsvc/home.html",
        {
            "department": user.department,
            "provider": user.provider,
            "provider_clusters": list(selectors.provider_clusters(user=user)),
        },
    )

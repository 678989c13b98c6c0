"""Navigation by role, for the page template."""

from __future__ import annotations

from django.urls import reverse


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    items: list[tuple[str, str]] = []
    if user is not None and user.is_authenticated:
        items.append(("Home", reverse("home")))
        if user.acts_for_department and user.department_id:
            items.append(
                ("My department", reverse("clusters:department", args=[user.department.code]))
            )
            items.append(
                ("Budget", reverse("budgets:department-budget", args=[user.department.code]))
            )
            items.append(("Exit requests", reverse("defection:exit-request-list")))
            items.append(
                (
                    "Service levels",
                    reverse("servicelevels:department-service-levels", args=[user.department.code]),
                )
            )
        if user.is_deputy_minister or user.reads_everything:
            # The board's cases: deputy ministers vote on them, analysts and
            # administrators read them.
            items.append(("Cases", reverse("governance:case-list")))
        if user.is_provider_manager and user.provider_id:
            items.append(("Cost pools", reverse("budgets:cost-pools", args=[user.provider.code])))
            items.append(
                ("Scorecard", reverse("servicelevels:scorecard", args=[user.provider.code]))
            )
        items.append(("Clusters", reverse("clusters:cluster-list")))
        items.append(("Services", reverse("clusters:service-list")))
        items.append(("Departments", reverse("clusters:department-list")))
        if user.reads_everything:
            items.append(("Overview", reverse("servicelevels:overview")))
            items.append(("Chargeback", reverse("budgets:chargeback")))
        if user.is_administrator:
            items.append(("Admin", reverse("admin:index")))
        items.append(("API", reverse("api-docs")))
    path = request.path
    # The current item is the one whose address is the longest start of this page's path.
    matches = [href for _, href in items if path == href or (href != "/" and path.startswith(href))]
    current = max(matches, key=len, default=None)
    return {
        "nav_items": [
            {"label": label, "href": href, "current": href == current} for label, href in items
        ]
    }

"""Navigation by role, for the page template."""

from __future__ import annotations

from django.urls import reverse


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    items: list[tuple[str, str]] = []
    # A user without a role yet may use nothing, so is offered nothing.
    if user is not None and user.is_authenticated and user.has_perm("sharedsvc.use_service"):
        items.append(("Home", reverse("home")))
        # Each item asks the gate (the apps' rules.py permissions); a user's department and
        # provider are set only for the roles that act for one.
        department = user.department if user.department_id else None
        provider = user.provider if user.provider_id else None
        if department is not None and user.has_perm("clusters.act_for_department", department):
            code = department.code
            items.append(("My department", reverse("clusters:department", args=[code])))
            if user.has_perm("clusters.view_department_private", department):
                items.append(("Budget", reverse("budgets:department-budget", args=[code])))
            items.append(("Exit requests", reverse("defection:exit-request-list")))
            items.append(
                (
                    "Service levels",
                    reverse("servicelevels:department-service-levels", args=[code]),
                )
            )
        if user.has_perm("clusters.read_board"):
            # The board's cases: seat holders vote on them, analysts and administrators
            # read them.
            items.append(("Cases", reverse("governance:case-list")))
        # Programmes are done in the open: every signed-in user reads them.
        items.append(("Programmes", reverse("initiatives:programme-list")))
        # So are pilots' plans (their evidence follows the gate on the pilot's page).
        items.append(("Pilots", reverse("pilots:pilot-list")))
        if provider is not None and user.has_perm("clusters.read_provider", provider):
            items.append(("Cost pools", reverse("budgets:cost-pools", args=[provider.code])))
            items.append(("Scorecard", reverse("servicelevels:scorecard", args=[provider.code])))
        items.append(("Clusters", reverse("clusters:cluster-list")))
        items.append(("Services", reverse("clusters:service-list")))
        items.append(("Departments", reverse("clusters:department-list")))
        # The annual benefits statement is for the board and for publication: everyone
        # signed in reads it, each figure as the gate allows.
        items.append(("Statement", reverse("statement:index")))
        if user.has_perm("sharedsvc.read_everything"):
            items.append(("Overview", reverse("servicelevels:overview")))
            items.append(("Chargeback", reverse("budgets:chargeback")))
        if user.has_perm("sharedsvc.use_admin"):
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

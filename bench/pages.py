"""Benchmark: every HTML page of the app as each role, at 10x the demo.

Over the demo at `--scale 10` (BENCH_SCALE) in a throwaway database, the app's URL patterns
(web/urls.py and the apps' urls it includes) are walked as each role of DESIGN.md, signed in
as the demo's user of that role: a deputy minister on the board (lcs.dm), a department
manager (lcs.manager), a provider manager (psoa.manager), an analyst and an administrator.

- A page with no argument is asked for as it is. A page about an object is asked for with
  one the role may see, picked through the model's `visible_to(user)` (the app's gate), the
  role's own department or provider first, otherwise the one with the most rows behind it.
  The board's case pages are walked once for each kind of case.
- The Django admin is walked too: its index, each model's list and one object's form.
- What is not a page (the API, health checks, the steps of signing in, forms that only
  take a POST, CSV downloads) is listed in NOT_PAGES with the reason; a pattern with an
  argument that is in neither list fails the benchmark, so a new page cannot be missed.

Each page is measured in-process with django.test.Client (DEBUG off, as served): two
warm-up requests (the second counts the queries), then BENCH_RUNS timed requests; the
server time is their median. A page answering 403, 404 or 405 to a role, or redirecting
it, is skipped for that role and listed; a 5xx (or any other unexpected answer) is an error
that fails the benchmark.

Target (issue 15): every page's median under 50 ms for every role that may see it. One
result per page is recorded in bench/results.json: the worst role's median, the role and
its queries in the note; the full table (page, role, median, queries) is printed.
"""

from __future__ import annotations

import datetime
import logging
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Result, limit_result, record, setup_django, throwaway_database

SCALE = int(os.environ.get("BENCH_SCALE", "10"))
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
DATABASE = os.environ.get("BENCH_DATABASE_NAME", "sharedsvc_bench_pages")
MAX_MEDIAN_MS = 50

# The roles of DESIGN.md, as the demo's users (clusters.demo.PEOPLE).
ROLES: list[tuple[str, str]] = [
    ("deputy minister", "lcs.dm"),
    ("department manager", "lcs.manager"),
    ("provider manager", "psoa.manager"),
    ("analyst", "analyst"),
    ("administrator", "admin"),
]

# Patterns (by qualified URL name, or by route for an unnamed one) that are not pages a
# signed-in role reads, and why. Everything else is walked.
NOT_PAGES: dict[str, str] = {
    "healthz": "health check (JSON)",
    "readyz": "health check (JSON)",
    "login": "signing in (before any role)",
    "sign-in-code": "signing in (before any role)",
    "sign-in-recovery-code": "signing in (before any role)",
    "sign-in-set-up": "signing in (before any role)",
    "admin/login/": "signing in (before any role)",
    "logout": "POST only",
    "sso-start": "single sign-on: a redirect to the identity provider",
    "sso-callback": "single sign-on: the identity provider's redirect back",
    "sign-out-everywhere": "POST only",
    "stay-signed-in": "POST only",
    "api-token-revoke": "POST only",
    "api-tokens-revoke-all": "POST only",
    "recovery-codes-new": "POST only",
    "budgets:cost-pool-upload-confirm": "POST only",
    "servicelevels:returns-upload-confirm": "POST only",
    "governance:alternate-end": "POST only",
    "notifications:read": "POST only",
    "notifications:read-all": "POST only",
    "statement:csv": "CSV, not a page",
}
# Whole parts of the URL space that are not the app's pages.
NOT_PAGES_UNDER: dict[str, str] = {
    "api/v1/": "the API (bench/api_lists.py)",
}


# Step 1 of leaving a cluster, answered so that step 2 (the check page) has answers to show:
# in-house, with the citizen-continuity plan for a service for citizens (ignored otherwise).
def leave_answers(today: datetime.date) -> dict[str, str]:
    return {
        "destination": "in_house",
        "to_provider": "",
        "reason": "cost",
        "justification": "Cheaper in-house.",
        "requested_leave_on_day": "",
        "requested_leave_on_month": "",
        "requested_leave_on_year": "",
        "citizen_impact": "Nothing: the same forms and offices.",
        "transition_on_day": str(today.day),
        "transition_on_month": str(today.month),
        "transition_on_year": str(today.year),
        "records_and_cases": "Exported and loaded the same weekend.",
        "contact": "The department's service desk.",
    }


@dataclass
class Route:
    """One URL pattern of the app: its qualified name (or route) and its route."""

    key: str
    route: str
    name: str | None


@dataclass
class Walked:
    """One page asked for as one role: its answer and, if it was timed, its figures."""

    page: str
    role: str
    url: str
    status: int
    median_ms: float | None = None
    queries: int | None = None
    why_skipped: str = ""


# Picking the objects -----------------------------------------------------------------------

# Each picker takes the user and today and returns the pages to ask for: (variant, kwargs),
# the variant "" for a page walked once; an empty list when the role sees nothing to ask for.
Picker = Callable[[Any, datetime.date], list[tuple[str, dict[str, Any]]]]


def _most(queryset, field: str) -> Any:
    """The value of `field` with the most rows in `queryset` (ties: the smallest value)."""
    from django.db.models import Count

    row = queryset.values(field).annotate(n=Count("pk")).order_by("-n", field).first()
    return None if row is None else row[field]


def department_code(user, today) -> str | None:
    """The role's own department; otherwise the one with the most memberships it sees."""
    from clusters.models import Membership

    if user.department_id:
        return user.department.code
    return _most(Membership.objects.visible_to(user, today), "department__code")


def departments(user, today) -> list[tuple[str, dict[str, Any]]]:
    code = department_code(user, today)
    return [] if code is None else [("", {"code": code})]


def clusters(user, today) -> list[tuple[str, dict[str, Any]]]:
    """The cluster with the most members the role sees (for a department's people, one of
    their department's; for a provider manager, one of their provider's)."""
    from clusters.models import Cluster, Membership

    memberships = Membership.objects.visible_to(user, today)
    if user.department_id:
        own = memberships.filter(department_id=user.department_id).values("cluster_id")
        memberships = memberships.filter(cluster_id__in=own)
    code = _most(memberships, "cluster__code") or (
        Cluster.objects.visible_to(user).order_by("code").values_list("code", flat=True).first()
    )
    return [] if code is None else [("", {"code": code})]


def providers(user, today) -> list[tuple[str, dict[str, Any]]]:
    """The role's own provider; otherwise the one running the most clusters."""
    from clusters.models import Cluster

    if user.provider_id:
        return [("", {"code": user.provider.code})]
    code = _most(Cluster.objects.visible_to(user), "provider__code")
    return [] if code is None else [("", {"code": code})]


def budget_lines(user, today) -> list[tuple[str, dict[str, Any]]]:
    from budgets.models import BudgetLine

    lines = BudgetLine.objects.visible_to(user)
    code = department_code(user, today)
    line = (
        lines.filter(department__code=code).select_related("department").order_by("-fiscal_year")
    ).first() or lines.select_related("department").order_by("-fiscal_year", "pk").first()
    return [] if line is None else [("", {"code": line.department.code, "pk": line.pk})]


def chargeback_runs(user, today) -> list[tuple[str, dict[str, Any]]]:
    from budgets.models import ChargebackRun

    run = ChargebackRun.objects.visible_to(user).order_by("-pk").first()
    return [] if run is None else [("", {"pk": run.pk})]


def memberships_to_leave(user, today) -> list[tuple[str, dict[str, Any]]]:
    """A current membership with no notice given, the role's own department's first."""
    from clusters.models import Membership
    from defection.models import OPEN_STATUSES

    candidates = (
        Membership.objects.visible_to(user, today)
        .filter(joined_on__lte=today, leaves_on__isnull=True)
        .exclude(exit_requests__status__in=OPEN_STATUSES)
        .order_by("pk")
    )
    own = candidates.filter(department_id=user.department_id) if user.department_id else None
    membership = (own.first() if own is not None else None) or candidates.first()
    return [] if membership is None else [("", {"pk": membership.pk})]


def exit_requests(user, today) -> list[tuple[str, dict[str, Any]]]:
    """An open request the role sees, its own department's first; else the latest."""
    from defection.models import OPEN_STATUSES, ExitRequest

    visible = ExitRequest.objects.visible_to(user).order_by("-requested_on", "-pk")
    open_ones = visible.filter(status__in=OPEN_STATUSES)
    request = (
        (open_ones.filter(department_id=user.department_id).first() if user.department_id else None)
        or open_ones.first()
        or visible.first()
    )
    return [] if request is None else [("", {"pk": request.pk})]


def _cases(user, *, decided: bool) -> list[tuple[str, dict[str, Any]]]:
    """One case of each kind the role sees: an open one for the case page (the vote form),
    a decided one for the decision record."""
    from governance.models import Case, CaseKind, CaseStatus

    pages = []
    for kind in CaseKind:
        cases = Case.objects.visible_to(user).filter(kind=kind).order_by("-opened_at", "-pk")
        if decided:
            case = cases.exclude(status=CaseStatus.OPEN).first()
        else:
            case = cases.filter(status=CaseStatus.OPEN).first() or cases.first()
        if case is not None:
            pages.append((f"{kind.value} case", {"pk": case.pk}))
    return pages


def cases(user, today) -> list[tuple[str, dict[str, Any]]]:
    return _cases(user, decided=False)


def decided_cases(user, today) -> list[tuple[str, dict[str, Any]]]:
    return _cases(user, decided=True)


def programmes(user, today) -> list[tuple[str, dict[str, Any]]]:
    """The programme with the most target departments."""
    from django.db.models import Count

    from initiatives.models import Programme

    code = (
        Programme.objects.visible_to(user)
        .annotate(n=Count("commitments"))
        .order_by("-n", "code")
        .values_list("code", flat=True)
        .first()
    )
    return [] if code is None else [("", {"code": code})]


def commitments(user, today) -> list[tuple[str, dict[str, Any]]]:
    """A commitment the role sees, its own department's (a pending one) first."""
    from initiatives.models import Commitment

    visible = Commitment.objects.visible_to(user).select_related("programme", "department")
    ordered = visible.order_by("-programme__pk", "pk")
    commitment = (
        ordered.filter(department_id=user.department_id).first() if user.department_id else None
    ) or ordered.first()
    if commitment is None:
        return []
    return [("", {"code": commitment.programme.code, "department": commitment.department.code})]


def pilots(user, today) -> list[tuple[str, dict[str, Any]]]:
    """The pilot with the most evaluations."""
    from django.db.models import Count

    from initiatives.models import PilotPlan

    code = (
        PilotPlan.objects.visible_to(user)
        .annotate(n=Count("evaluations"))
        .order_by("-n", "pk")
        .values_list("service__code", flat=True)
        .first()
    )
    return [] if code is None else [("", {"code": code})]


def fiscal_years(user, today) -> list[tuple[str, dict[str, Any]]]:
    from sharedsvc.periods import last_complete_fiscal_year

    return [("", {"fiscal_year": last_complete_fiscal_year(today)})]


PICKERS: dict[str, Picker] = {
    "clusters:department": departments,
    "clusters:cluster": clusters,
    "budgets:department-budget": departments,
    "budgets:budget-line-change": budget_lines,
    "budgets:cost-pools": providers,
    "budgets:cost-pool-upload": providers,
    "budgets:chargeback-run": chargeback_runs,
    "defection:leave": memberships_to_leave,
    "defection:leave-check": memberships_to_leave,
    "defection:exit-request": exit_requests,
    "defection:exit-request-withdraw": exit_requests,
    "governance:case": cases,
    "governance:case-decision": decided_cases,
    "initiatives:programme": programmes,
    "initiatives:commitment-answer": commitments,
    "pilots:pilot": pilots,
    "servicelevels:scorecard": providers,
    "servicelevels:returns-upload": providers,
    "servicelevels:department-service-levels": departments,
    "servicelevels:in-house-estimate-new": departments,
    "servicelevels:cluster-performance": clusters,
    "statement:year": fiscal_years,
}


def admin_objects(model) -> Picker:
    """For the admin's change form of `model`: its first object (the gate's, where the
    model has one; the admin is the administrator's, who sees every row)."""

    def pick(user, today) -> list[tuple[str, dict[str, Any]]]:
        manager = model._default_manager
        rows = manager.visible_to(user) if hasattr(manager, "visible_to") else manager.all()
        pks = list(rows.order_by("pk").values_list("pk", flat=True)[:1])
        return [("", {"object_id": str(pk)}) for pk in pks]

    return pick


# Walking the URL patterns ------------------------------------------------------------------


def routes(patterns, prefix: str = "", namespace: str = "") -> list[Route]:
    from django.urls import URLPattern, URLResolver

    found: list[Route] = []
    for entry in patterns:
        fragment = str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += routes(entry.url_patterns, prefix + fragment, inner)
        elif isinstance(entry, URLPattern):
            route = prefix + fragment
            name = f"{namespace}{entry.name}" if entry.name else None
            found.append(Route(key=name or route, route=route, name=name))
    return found


def admin_pickers() -> dict[str, Picker]:
    """The admin's change forms, by URL name, with their model's picker."""
    from django.contrib import admin

    return {
        f"admin:{model._meta.app_label}_{model._meta.model_name}_change": admin_objects(model)
        for model in admin.site._registry
    }


def plan(all_routes: list[Route]) -> tuple[list[Route], dict[str, str], list[str]]:
    """The routes to walk, those left out (with why) and those nobody knows how to walk."""
    walked, left_out, unknown = [], {}, []
    admin_change = admin_pickers()
    for route in all_routes:
        if route.key in NOT_PAGES:
            left_out[route.route] = NOT_PAGES[route.key]
        elif any(route.route.startswith(p) for p in NOT_PAGES_UNDER):
            prefix = next(p for p in NOT_PAGES_UNDER if route.route.startswith(p))
            left_out.setdefault(prefix + "...", NOT_PAGES_UNDER[prefix])
        elif route.route.startswith("admin/"):
            if (
                route.key in admin_change
                or route.key.endswith("_changelist")
                or (route.key == "admin:index")
            ):
                walked.append(route)
            else:
                left_out.setdefault(
                    "admin/... (other)", "the admin's add, delete, history and helper pages"
                )
        elif "<" not in route.route or route.key in PICKERS:
            walked.append(route)
        else:
            unknown.append(route.key)
    return walked, left_out, unknown


# Measuring -------------------------------------------------------------------------------

TIMED = {200, 409}  # a page, or a page saying why not (409: cannot leave, cannot withdraw)
SKIPPED = {403, 404, 405}


def measure(client, url: str) -> tuple[int, str, float | None, int | None]:
    """Status, where it redirects (if it does), median server time (ms) and queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up: imports, caches, the handler's middleware
    if response.status_code not in TIMED:
        return response.status_code, response.get("Location", ""), None, None
    if not response.get("Content-Type", "").startswith("text/html"):
        return -1, response.get("Content-Type", ""), None, None
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    # Counted now: the list is read from the connection's log, which the next request clears.
    queries = len(captured.captured_queries)
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - began) * 1000)
    return response.status_code, "", statistics.median(times), queries


def walk(walked_routes: list[Route], today: datetime.date) -> tuple[list[Walked], list[str]]:
    from django.test import Client
    from django.urls import reverse

    from sharedsvc.models import User

    pickers = {**PICKERS, **admin_pickers()}
    rows: list[Walked] = []
    errors: list[str] = []
    for role, username in ROLES:
        user = User.objects.get(username=username)
        # The client's host is one the settings allow (DEBUG off), as served.
        client = Client(SERVER_NAME="localhost")
        client.force_login(user)
        for route in walked_routes:
            if route.key in pickers:
                pages = pickers[route.key](user, today)
                if not pages:
                    rows.append(
                        Walked(f"/{route.route}", role, "", 0, why_skipped="nothing visible")
                    )
                    continue
            else:
                pages = [("", {})]
            for variant, kwargs in pages:
                page = f"/{route.route}" + (f" ({variant})" if variant else "")
                url = reverse(route.key, kwargs=kwargs) if route.name else "/" + route.route
                if route.key == "defection:leave-check":
                    client.post(reverse("defection:leave", kwargs=kwargs), leave_answers(today))
                status, where, median_ms, queries = measure(client, url)
                row = Walked(page, role, url, status, median_ms, queries)
                if median_ms is None:
                    if 300 <= status < 400:
                        row.why_skipped = f"redirects to {where}"
                    elif status in SKIPPED:
                        row.why_skipped = str(status)
                    else:
                        detail = where if status == -1 else str(status)
                        row.why_skipped = f"ERROR {detail}"
                        errors.append(f"{role} {url}: {detail}")
                rows.append(row)
        walked = [r for r in rows if r.role == role]
        print(
            f"  as {role} ({username}): {sum(r.median_ms is not None for r in walked)} pages "
            f"timed, {sum(r.median_ms is None for r in walked)} skipped",
            flush=True,
        )
    return rows, errors


def report(rows: list[Walked], left_out: dict[str, str]) -> list[Result]:
    timed = [r for r in rows if r.median_ms is not None]
    print(f"\nEvery page as each role ({RUNS} timed requests each, median server time):")
    print(f"  {'page':<62} {'role':<19} {'status':>6} {'median ms':>10} {'queries':>8}")
    for r in timed:
        print(f"  {r.page:<62} {r.role:<19} {r.status:>6} {r.median_ms:>10.1f} {r.queries:>8}")
    print("\nSkipped (not timed), with the roles:")
    skipped: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        if r.median_ms is None:
            skipped.setdefault((r.page, r.why_skipped), []).append(r.role)
    for (page, why), roles in skipped.items():
        who = "every role" if len(roles) == len(ROLES) else ", ".join(roles)
        print(f"  {page:<62} {why}: {who}")
    print("\nNot pages (not walked):")
    for route, why in left_out.items():
        print(f"  /{route:<61} {why}")

    results: list[Result] = []
    pages = list(dict.fromkeys(r.page for r in timed))
    for page in pages:
        of_page = [r for r in timed if r.page == page]
        worst = max(of_page, key=lambda r: r.median_ms or 0)
        assert worst.median_ms is not None
        results.append(
            limit_result(
                f"page {page}: median, worst role",
                ours=worst.median_ms,
                below=MAX_MEDIAN_MS,
                unit="ms",
                note=f"{worst.role}, {worst.queries} queries; walked as {len(of_page)} roles",
            )
        )
    return results


def bench() -> int:
    from django.db import connection
    from django.utils import timezone

    from clusters.models import Membership
    from web import urls
    from web.demo import build_demo

    today = timezone.localdate()
    began = time.monotonic()
    build_demo(scale=SCALE)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would have, after the bulk load
    print(
        f"Demo at scale {SCALE} built in {time.monotonic() - began:.0f} s: "
        f"{Membership.objects.count():,} memberships."
    )
    walked_routes, left_out, unknown = plan(routes(urls.urlpatterns))
    if unknown:
        print(
            "Pages with an argument that the benchmark cannot fill (add a picker to "
            f"bench/pages.py PICKERS, or the pattern to NOT_PAGES): {', '.join(unknown)}"
        )
        return 2
    print(f"Walking {len(walked_routes)} page patterns as {len(ROLES)} roles...")
    # Refusals (403, 404) are what some roles get, and are listed; errors (5xx) are logged.
    # (Set here: building the database configures logging again.)
    logging.getLogger("django.request").setLevel(logging.ERROR)
    rows, errors = walk(walked_routes, today)
    results = report(rows, left_out)
    results.append(
        limit_result(
            "pages answering 5xx or not HTML, any role",
            ours=len(errors),
            below=1,
            unit="pages",
            note="; ".join(errors)[:500],
        )
    )
    record("pages", results)
    if errors:
        print("Errors:\n  " + "\n  ".join(errors))
        return 2
    return 0 if all(result.met for result in results) else 1


def main() -> int:
    # The checkout has no collected static files (`collectstatic`), so the manifest storage
    # of DEBUG off would fail every page; the plain storage's URL costs the same lookup.
    os.environ.setdefault("STATIC_MANIFEST", "0")
    warnings.filterwarnings("ignore", "No directory at", UserWarning)  # as the tests do
    setup_django()
    from django.conf import settings

    if settings.DEBUG:
        raise SystemExit("DEBUG is on in the environment: the pages would be measured with it.")
    # The demo's users get passwords; a fast hasher, since that is not what is measured.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with throwaway_database(DATABASE):
        return bench()


if __name__ == "__main__":
    sys.exit(main())

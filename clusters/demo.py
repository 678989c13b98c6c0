"""The demo world of `manage.py seed_demo`: a British Columbia-style public service.

`build_demo()` is the one entry point: the organisation and its clusters here, then the
money (budgets.demo: cost pools, budget lines, chargebacks). Every write goes through the
service functions with the `system` account as the actor. Running it again creates nothing
twice: things are found by their code (memberships by department and cluster, standards by
name) and only missing ones are created. Users get fresh passwords on every run, printed by
the command.

`scale=N` (`seed_demo --scale N`) adds copies 2..N of every department, cluster and
membership (`AGRI-002` in `PAY-PSOA-002`, ...) for benchmarks: at N=200 over 10,000
memberships. The copies are bulk-created (the services would take minutes), inside the
demo's audit context so the audit triggers still record who made them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection

from clusters import services
from clusters.models import (
    Cluster,
    Department,
    Direction,
    Membership,
    Provider,
    ProviderKind,
    Service,
    Standard,
    StandardKind,
)
from clusters.users import user_create, user_set_password
from sharedsvc.audit import audit_context
from sharedsvc.models import User
from sharedsvc.periods import previous_month
from sharedsvc.roles import Role

SYSTEM_USERNAME = "system"
SCALE_INVALID = "The scale is a whole number from 1 (the normal demo) up."

# code, name, is_main, headcount (the usage of people-based services)
DEPARTMENTS: list[tuple[str, str, bool, int]] = [
    ("AGRI", "Agriculture and Food", False, 520),
    ("CLBC", "Community Living Agency", False, 680),
    ("EDUC", "Education and Child Care", True, 940),
    ("ENV", "Environment and Parks", True, 1150),
    ("FIN", "Finance", True, 1820),
    ("FOR", "Forests", False, 2610),
    ("HLTH", "Health", True, 2240),
    ("JAG", "Attorney General", True, 3180),
    ("LCS", "Labour and Citizens' Services", True, 2390),
    ("MUNI", "Housing and Municipal Affairs", False, 460),
    ("SDPR", "Social Development and Poverty Reduction", True, 2080),
    ("TACS", "Technology and Corporate Services", True, 1310),
    ("TRAN", "Transportation and Transit", False, 1730),
]

# code, name, kind, host department
PROVIDERS: list[tuple[str, str, str, str | None]] = [
    ("PSOA", "Public Service Operations Agency", ProviderKind.PSOA, "FIN"),
    ("TECHSVC", "Technology Services", ProviderKind.DEPARTMENT, "TACS"),
    ("CASCADIA", "Cascadia Business Services Ltd.", ProviderKind.EXTERNAL, None),
]

# code, name, category, purpose, audience, lifecycle, charging unit
SERVICES: list[tuple[str, str, str, str, str, str, str]] = [
    ("HR", "Human resources", "hr", "efficiency", "internal", "live", "employee"),
    ("PAY", "Payroll", "payroll", "efficiency", "internal", "live", "employee"),
    ("FINOPS", "Financial operations", "finance", "efficiency", "internal", "live", "invoice"),
    ("IT", "Desktop and device support", "it", "efficiency", "internal", "live", "device"),
    ("PORTAL", "Citizen services portal", "portal", "customer", "external", "pilot", "transaction"),
    ("DOCS", "Digital records and mail", "other", "efficiency", "internal", "pilot", "user"),
]

H, L = Direction.HIGHER_IS_BETTER, Direction.LOWER_IS_BETTER
OP, TECH = StandardKind.OPERATIONAL, StandardKind.TECHNICAL

# service: [(name, kind, unit, target, direction)]
STANDARDS: dict[str, list[tuple[str, str, str, str, str]]] = {
    "HR": [
        ("Time to hire", OP, "days", "45", L),
        ("Cases resolved within 10 days", OP, "%", "90", H),
    ],
    "PAY": [
        ("Pay accuracy", OP, "%", "99.5", H),
        ("Pay runs on time", OP, "%", "100", H),
        ("Payroll system availability", TECH, "%", "99.9", H),
    ],
    "FINOPS": [
        ("Invoices paid within 30 days", OP, "%", "95", H),
        ("Month-end close", OP, "working days", "5", L),
    ],
    "IT": [
        ("Incidents resolved within 8 hours", OP, "%", "90", H),
        ("Service desk availability", TECH, "%", "99.5", H),
        ("Mean time to restore", TECH, "hours", "4", L),
    ],
    "PORTAL": [
        ("Transactions completed online", OP, "%", "80", H),
        ("Portal availability", TECH, "%", "99.5", H),
    ],
    "DOCS": [
        ("Mail scanned the same day", OP, "%", "95", H),
        ("Records system availability", TECH, "%", "99.5", H),
    ],
}

# code, name, service, provider, capacity, fixed cost ratio
CLUSTERS: list[tuple[str, str, str, str, int | None, str]] = [
    ("PAY-PSOA", "PSOA Payroll", "PAY", "PSOA", 25000, "0.60"),
    ("PAY-TECH", "Technology Services Payroll", "PAY", "TECHSVC", 8000, "0.70"),
    ("HR-PSOA", "PSOA Human Resources", "HR", "PSOA", None, "0.50"),
    ("FIN-PSOA", "PSOA Financial Operations", "FINOPS", "PSOA", 400000, "0.55"),
    ("FIN-CASC", "Cascadia Financial Operations", "FINOPS", "CASCADIA", 150000, "0.30"),
    ("IT-TECH", "Technology Services Desktop", "IT", "TECHSVC", 20000, "0.65"),
    ("IT-CASC", "Cascadia Managed Desktop", "IT", "CASCADIA", 12000, "0.40"),
    ("PORTAL-PILOT", "Citizen Portal Pilot", "PORTAL", "TECHSVC", 500000, "0.80"),
    ("DOCS-PILOT", "PSOA Digital Records Pilot", "DOCS", "PSOA", None, "0.70"),
]

# What a department spent per usage unit a year before sharing (the benefits baseline).
BASELINE_PER_UNIT = {
    "HR": Decimal("1450"),
    "PAY": Decimal("910"),
    "FINOPS": Decimal("11.50"),
    "IT": Decimal("1180"),
    "PORTAL": Decimal("4.20"),
    "DOCS": Decimal("160"),
}

# How many usage units a department has of each charging unit, per head.
UNITS_PER_HEAD: dict[str, int | Decimal] = {
    "employee": 1,
    "device": Decimal("1.25"),
    "invoice": 14,
    "transaction": 90,
    "user": 1,
}

# cluster: member department codes, open-ended from the demo start
MEMBERS: dict[str, list[str]] = {
    "PAY-PSOA": ["AGRI", "EDUC", "FIN", "FOR", "HLTH", "JAG", "LCS", "MUNI", "SDPR"],
    "PAY-TECH": ["CLBC", "TACS"],
    "HR-PSOA": [
        "AGRI",
        "EDUC",
        "ENV",
        "FIN",
        "FOR",
        "HLTH",
        "JAG",
        "LCS",
        "MUNI",
        "SDPR",
        "TACS",
        "TRAN",
    ],
    "FIN-PSOA": ["AGRI", "EDUC", "ENV", "FIN", "HLTH", "JAG", "LCS", "SDPR", "TACS"],
    "FIN-CASC": ["FOR", "MUNI", "TRAN"],
    "IT-TECH": ["AGRI", "EDUC", "ENV", "FIN", "JAG", "LCS", "MUNI", "SDPR", "TACS"],
    "IT-CASC": ["HLTH", "TRAN"],
}

# The users printed by seed_demo: username, role, department, provider.
PEOPLE: list[tuple[str, str, str | None, str | None]] = [
    ("admin", Role.ADMINISTRATOR, None, None),
    ("analyst", Role.ANALYST, None, None),
    ("lcs.manager", Role.DEPARTMENT_MANAGER, "LCS", None),
    ("lcs.dm", Role.DEPUTY_MINISTER, "LCS", None),
    ("psoa.manager", Role.PROVIDER_MANAGER, None, "PSOA"),
    ("techsvc.manager", Role.PROVIDER_MANAGER, None, "TECHSVC"),
    # Stands in for Education's deputy minister on the board (governance.demo).
    ("educ.alternate", Role.DEPARTMENT_MANAGER, "EDUC", None),
    # Signed in before an administrator gave them a role: sees only the "no role yet" page.
    ("newcomer", Role.UNASSIGNED, None, None),
]


@dataclass
class Demo:
    """What `build_demo` made or found, for the command's report and for extensions."""

    actor: User
    start: datetime.date
    scale: int = 1
    departments: dict[str, Department] = field(default_factory=dict)
    providers: dict[str, Provider] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    clusters: dict[str, Cluster] = field(default_factory=dict)
    # (username, role label, what it acts for, password)
    credentials: list[tuple[str, str, str, str]] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, n: int = 1) -> None:
        if n:
            self.created[what] = self.created.get(what, 0) + n


def fiscal_year_start(day: datetime.date) -> datetime.date:
    month = settings.FISCAL_YEAR_START_MONTH
    year = day.year if day.month >= month else day.year - 1
    return datetime.date(year, month, 1)


def first_of_month_after(day: datetime.date) -> datetime.date:
    return datetime.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _add_years(day: datetime.date, years: int) -> datetime.date:
    return day.replace(year=day.year + years)


def _system_user() -> User:
    """The account the demo acts as in the audit trail; its password is never shown."""
    user = User.objects.filter(username=SYSTEM_USERNAME).first()
    if user is None:
        user = user_create(
            actor=None,
            username=SYSTEM_USERNAME,
            role=Role.ADMINISTRATOR,
            email="system@example.gov.bc.ca",
        )
    return user


def build_organisation(*, today: datetime.date, scale: int = 1) -> Demo:
    """Create whatever of the demo organisation is missing (departments, providers, the
    catalogue, clusters, memberships and people) and reset the demo users' passwords.
    The money, exits and returns are added by the apps above (`web.demo.build_demo`)."""
    if scale < 1:
        raise ValueError(SCALE_INVALID)
    actor = _system_user()
    # Two complete fiscal years of history before the current one.
    demo = Demo(actor=actor, start=_add_years(fiscal_year_start(today), -2), scale=scale)
    _organisation(demo)
    _catalogue(demo)
    _clusters(demo)
    _memberships(demo, today)
    _scale(demo)
    _people(demo)
    return demo


def _organisation(demo: Demo) -> None:
    for code, name, is_main, _headcount in DEPARTMENTS:
        department = Department.objects.filter(code=code).first()
        if department is None:
            department = services.department_create(
                actor=demo.actor, code=code, name=name, is_main=is_main
            )
            demo.count("departments")
        demo.departments[code] = department
    for code, name, kind, host in PROVIDERS:
        provider = Provider.objects.filter(code=code).first()
        if provider is None:
            provider = services.provider_create(
                actor=demo.actor,
                code=code,
                name=name,
                kind=kind,
                host_department=demo.departments[host] if host else None,
            )
            demo.count("providers")
        demo.providers[code] = provider


def _catalogue(demo: Demo) -> None:
    for code, name, category, purpose, audience, lifecycle, unit in SERVICES:
        service = Service.objects.filter(code=code).first()
        if service is None:
            service = services.service_create(
                actor=demo.actor,
                code=code,
                name=name,
                category=category,
                purpose=purpose,
                audience=audience,
                lifecycle=lifecycle,
                charging_unit=unit,
            )
            demo.count("services")
        demo.services[code] = service
        for name, kind, unit, target, direction in STANDARDS[code]:
            if not Standard.objects.filter(service=service, name=name).exists():
                services.standard_create(
                    actor=demo.actor,
                    service=service,
                    name=name,
                    kind=kind,
                    unit=unit,
                    target=Decimal(target),
                    direction=direction,
                )
                demo.count("standards")


def _clusters(demo: Demo) -> None:
    for code, name, service, provider, capacity, ratio in CLUSTERS:
        cluster = Cluster.objects.filter(code=code).first()
        if cluster is None:
            cluster = services.cluster_create(
                actor=demo.actor,
                code=code,
                name=name,
                service=demo.services[service],
                provider=demo.providers[provider],
                capacity=capacity,
                fixed_cost_ratio=Decimal(ratio),
            )
            demo.count("clusters")
        demo.clusters[code] = cluster


def _usage(demo: Demo, department: str, cluster: str) -> tuple[int, Decimal]:
    """A department's usage of a cluster's service, and what that cost it before sharing."""
    headcount = next(h for code, _n, _m, h in DEPARTMENTS if code == department)
    service = demo.clusters[cluster].service
    units = int(headcount * UNITS_PER_HEAD[service.charging_unit])
    if service.code == "PORTAL":
        units = headcount * 40  # only the citizen-facing part of a ministry uses the portal
    baseline = (BASELINE_PER_UNIT[service.code] * units).quantize(Decimal("0.01"))
    return units, baseline


def _membership(
    demo: Demo,
    department: str,
    cluster: str,
    joined_on: datetime.date,
    leaves_on: datetime.date | None = None,
) -> None:
    dept, clus = demo.departments[department], demo.clusters[cluster]
    if Membership.objects.filter(department=dept, cluster=clus).exists():
        return
    units, baseline = _usage(demo, department, cluster)
    services.membership_create(
        actor=demo.actor,
        department=dept,
        cluster=clus,
        joined_on=joined_on,
        leaves_on=leaves_on,
        usage_units=units,
        baseline_annual_cost=baseline,
    )
    demo.count("memberships")


def _memberships(demo: Demo, today: datetime.date) -> None:
    start = demo.start
    moved_on = _add_years(start, 1)
    for cluster, departments in MEMBERS.items():
        for department in departments:
            _membership(demo, department, cluster, start)
    # History: ENV left Technology Services payroll for the PSOA's after a year, and
    # Forests moved its desktops from Technology Services to the outside firm.
    _membership(demo, "ENV", "PAY-TECH", start, leaves_on=moved_on)
    _membership(demo, "ENV", "PAY-PSOA", moved_on)
    _membership(demo, "FOR", "IT-TECH", start, leaves_on=moved_on)
    _membership(demo, "FOR", "IT-CASC", moved_on)
    # Community Living took its HR back in-house after a year (the creep back to making
    # that the overview's make-or-buy chart shows; its exit request: defection.demo).
    _membership(demo, "CLBC", "HR-PSOA", start, leaves_on=moved_on)
    # Transportation is leaving Technology Services payroll at the end of its notice.
    notice = demo.clusters["PAY-TECH"].notice_days
    _membership(
        demo,
        "TRAN",
        "PAY-TECH",
        start,
        leaves_on=first_of_month_after(today + datetime.timedelta(days=notice)),
    )
    # The portal pilot started with the fiscal year of the last month that ended (this
    # one, but in its first month: then the year just ended, so there is a month to charge).
    pilot_start = fiscal_year_start(previous_month(today))
    for department in ("LCS", "SDPR", "TRAN"):
        _membership(demo, department, "PORTAL-PILOT", pilot_start)
    # So did the PSOA's digital records pilot (its plan and the board's decision on it:
    # `initiatives.demo`).
    for department in ("AGRI", "EDUC", "ENV", "FOR"):
        _membership(demo, department, "DOCS-PILOT", pilot_start)


def _people(demo: Demo) -> None:
    """One user per role, plus a deputy minister for every main department's board seat."""
    people = list(PEOPLE)
    for code, _name, is_main, _headcount in DEPARTMENTS:
        username = f"{code.lower()}.dm"
        if is_main and all(username != p[0] for p in people):
            people.append((username, Role.DEPUTY_MINISTER, code, None))
    for username, role, department_code, provider_code in people:
        department = demo.departments[department_code] if department_code else None
        provider = demo.providers[provider_code] if provider_code else None
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                actor=demo.actor,
                username=username,
                role=role,
                department=department,
                provider=provider,
                email=f"{username}@example.gov.bc.ca",
            )
            password = user.generated_password  # type: ignore[attr-defined]
            demo.count("users")
        else:
            password = user_set_password(actor=demo.actor, user=user)
            if role == Role.DEPUTY_MINISTER and department is not None:
                department.refresh_from_db()
                if department.deputy_minister_id is None:
                    services.department_update(
                        actor=demo.actor, department=department, deputy_minister=user
                    )
        tied = department_code or provider_code or ""
        demo.credentials.append((username, Role(role).label, tied, password))


def copy_code(code: str, copy: int) -> str:
    return f"{code}-{copy:03d}"


def _scale(demo: Demo) -> None:
    """Copies 2..scale of the departments, clusters and memberships, in bulk."""
    if demo.scale <= 1:
        return
    copies = range(2, demo.scale + 1)
    base_departments = [demo.departments[code] for code, *_ in DEPARTMENTS]
    base_clusters = [demo.clusters[code] for code, *_ in CLUSTERS]
    base_members = list(
        Membership.objects.filter(
            department__in=base_departments, cluster__in=base_clusters
        ).select_related("department", "cluster")
    )
    with audit_context(actor=demo.actor), checked_at_once():
        departments = _bulk_get_or_create(
            Department,
            [
                Department(
                    code=copy_code(d.code, k), name=f"{d.name} {k}", is_main=False, active=True
                )
                for k in copies
                for d in base_departments
            ],
        )
        clusters = _bulk_get_or_create(
            Cluster,
            [
                Cluster(
                    code=copy_code(c.code, k),
                    name=f"{c.name} {k}",
                    service_id=c.service_id,
                    provider_id=c.provider_id,
                    notice_days=c.notice_days,
                    capacity=c.capacity,
                    fixed_cost_ratio=c.fixed_cost_ratio,
                )
                for k in copies
                for c in base_clusters
            ],
        )
        demo.count("departments", departments.created)
        demo.count("clusters", clusters.created)
        demo.departments.update(departments.by_code)
        demo.clusters.update(clusters.by_code)
        existing = set(
            Membership.objects.filter(department__in=departments.by_code.values()).values_list(
                "department_id", "cluster_id", "joined_on"
            )
        )
        new = []
        for k in copies:
            for m in base_members:
                department = departments.by_code[copy_code(m.department.code, k)]
                cluster = clusters.by_code[copy_code(m.cluster.code, k)]
                if (department.pk, cluster.pk, m.joined_on) in existing:
                    continue
                new.append(
                    Membership(
                        department=department,
                        cluster=cluster,
                        service_id=cluster.service_id,
                        joined_on=m.joined_on,
                        leaves_on=m.leaves_on,
                        usage_units=m.usage_units,
                        baseline_annual_cost=m.baseline_annual_cost,
                    )
                )
        Membership.objects.bulk_create(new, batch_size=5000)
        demo.count("memberships", len(new))


@contextmanager
def checked_at_once() -> Iterator[None]:
    """Check foreign keys row by row while bulk-inserting, not at commit: with thousands of
    deferred checks queued, each audit-trigger insert makes PostgreSQL's trigger queue
    slower (quadratic overall). Django's default, deferred, is back afterwards."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@dataclass
class _Bulk:
    by_code: dict
    created: int


def _bulk_get_or_create(model, wanted: list) -> _Bulk:
    """The rows of `wanted` by code, inserting those whose code is not there yet."""
    codes = [row.code for row in wanted]
    found = {row.code: row for row in model.objects.filter(code__in=codes)}
    missing = [row for row in wanted if row.code not in found]
    model.objects.bulk_create(missing, batch_size=5000)
    found.update({row.code: row for row in missing})
    return _Bulk(by_code=found, created=len(missing))

"""The doors agree (issue 9): for every persona and every object that has both a page and
an API detail, the page answers 200 exactly when the API does, and every money figure on
the page is one that the API gives the same user.

"A money figure" is a number with two decimals in the page's <main> (percentages left
out). The API's figures are the decimals of the object's detail and of the lists that
carry the same object's figures (members, charges, pools, reports), filtered to it, and
the differences between two of them (pages show "change" columns). A page that shows a
figure the API withholds from that user (another department's baseline, a destination
provider's view of the impact) fails.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from budgets.services import budget_line_create, chargeback_run, cost_pool_create
from clusters.models import Lifecycle
from defection.models import Destination, Reason
from defection.services import exit_request_submit
from governance.services import vote_cast
from initiatives.models import Answer, Commitment
from initiatives.pilots import pilot_evaluate, pilot_plan_create
from initiatives.services import commitment_answer, programme_propose
from servicelevels.models import Measurement
from sharedsvc.periods import fiscal_year_of, last_complete_fiscal_year
from tests.factories import ClusterFactory, MembershipFactory, ServiceFactory, StandardFactory
from tests.initiatives.pilot_world import months_back
from tests.matrix import PERSONAS
from tests.personas import World

MONEY = re.compile(r"(?<![\d.,])-?\d{1,3}(?:,\d{3})*\.\d{2}(?![\d%])(?!\s*%)")
API_DECIMAL = re.compile(r"^-?\d+\.\d{2,4}$")


def _years() -> list[str]:
    """The fiscal years whose benefits the pages show (this one and the last complete, on
    the day the test runs) and the scenario's own, 2026-27."""
    today = timezone.localdate()
    return sorted({fiscal_year_of(today), last_complete_fiscal_year(today), "2026-27"})


TAG = re.compile(r"<[^>]*>")
MAIN = re.compile(r"<main\b.*?</main>", re.S)


@dataclass
class Scenario:
    world: World
    exit_request_id: int
    case_id: int
    run_id: int
    programme_case_id: int
    pilot_case_id: int


@dataclass
class Pair:
    name: str
    page: Callable[[Scenario], str]
    api: Callable[[Scenario], str]
    # Lists that carry the same object's figures for the API side of the comparison.
    sources: Callable[[Scenario], list[str]]
    # The page shows money to someone: the comparison must have had figures to check.
    shows_money: bool = False


def _cluster_sources(code: str) -> list[str]:
    return [
        f"/api/v1/memberships/?cluster={code}&page_size=1000",
        f"/api/v1/charges/?cluster={code}&page_size=1000",
        f"/api/v1/cost-pools/?cluster={code}&page_size=1000",
        f"/api/v1/reports/cluster-costs/?cluster={code}&page_size=1000",
        # The benefits report has no cluster filter: all of it, as this user sees it.
        *[f"/api/v1/reports/benefits/?fiscal_year={y}" for y in _years()],
    ]


def _department_sources(code: str) -> list[str]:
    return [
        f"/api/v1/memberships/?department={code}&page_size=1000",
        f"/api/v1/charges/?department={code}&page_size=1000",
        f"/api/v1/budget-lines/?department={code}&page_size=1000",
        *[f"/api/v1/reports/benefits/?department={code}&fiscal_year={y}" for y in _years()],
        f"/api/v1/reports/make-or-buy/?department={code}&page_size=1000",
    ]


def _coded_pair(
    code: str, name: str, page: str, api: str, sources: Callable[[str], list[str]]
) -> Pair:
    """The pair of the object with this code (`{code}` in `name`, `page` and `api`).
    A function, not lambdas in the list, so each pair keeps its own code."""
    return Pair(
        name.format(code=code),
        lambda s: page.format(code=code),
        lambda s: api.format(code=code),
        lambda s: sources(code),
    )


PROGRAMME = "HRNOW"
PILOT = "MAIL"


def _programme_sources(s: Scenario) -> list[str]:
    return [
        f"/api/v1/programmes/{PROGRAMME}/",
        f"/api/v1/programmes/{PROGRAMME}/benefit/",
        f"/api/v1/programmes/{PROGRAMME}/commitments/?page_size=1000",
    ]


def _pilot_sources(s: Scenario) -> list[str]:
    return [
        f"/api/v1/pilot-plans/{PILOT}/evidence/",
        f"/api/v1/pilot-plans/{PILOT}/evaluations/?page_size=1000",
    ]


PAIRS = [
    *[
        _coded_pair(
            code,
            "department {code}",
            "/departments/{code}/",
            "/api/v1/departments/{code}/",
            _department_sources,
        )
        for code in ("LCS", "ENV", "TECH")
    ],
    *[
        _coded_pair(
            code,
            "cluster {code}",
            "/clusters/{code}/",
            "/api/v1/clusters/{code}/",
            _cluster_sources,
        )
        for code in ("PAY-PSOA", "PAY-TECH", "IT-TECH")
    ],
    *[
        _coded_pair(
            code,
            "cluster performance {code}",
            "/clusters/{code}/performance/",
            "/api/v1/clusters/{code}/",
            _cluster_sources,
        )
        for code in ("PAY-PSOA", "PAY-TECH", "IT-TECH")
    ],
    Pair(
        "exit request",
        lambda s: f"/exit-requests/{s.exit_request_id}/",
        lambda s: f"/api/v1/exit-requests/{s.exit_request_id}/",
        lambda s: _cluster_sources("PAY-PSOA"),
    ),
    Pair(
        "case",
        lambda s: f"/cases/{s.case_id}/",
        lambda s: f"/api/v1/cases/{s.case_id}/",
        lambda s: [f"/api/v1/exit-requests/{s.exit_request_id}/", *_cluster_sources("PAY-PSOA")],
    ),
    Pair(
        "programme",
        lambda s: f"/programmes/{PROGRAMME}/",
        lambda s: f"/api/v1/programmes/{PROGRAMME}/",
        _programme_sources,
        shows_money=True,
    ),
    Pair(
        "pilot",
        lambda s: f"/pilots/{PILOT}/",
        lambda s: f"/api/v1/pilot-plans/{PILOT}/",
        _pilot_sources,
        shows_money=True,
    ),
    Pair(
        "programme's case",
        lambda s: f"/cases/{s.programme_case_id}/",
        lambda s: f"/api/v1/cases/{s.programme_case_id}/",
        _programme_sources,
    ),
    Pair(
        "pilot's case",
        lambda s: f"/cases/{s.pilot_case_id}/",
        lambda s: f"/api/v1/cases/{s.pilot_case_id}/",
        lambda s: [f"/api/v1/pilot-plans/{PILOT}/", *_pilot_sources(s)],
        shows_money=True,
    ),
    Pair(
        "chargeback run",
        lambda s: f"/chargeback/runs/{s.run_id}/",
        lambda s: f"/api/v1/chargeback-runs/{s.run_id}/",
        lambda s: [],
    ),
]


def _programme(world: World, month: datetime.date) -> int:
    """Programme HRNOW on a service of its own (human resources, one cluster run by
    TECHSVC): LCS and ENV committed and joined in June 2026, each charged for `month`; FIN
    has not answered. Two departments make the total, so a department reads its own row
    and not the total. Returns its board case."""
    service = ServiceFactory(code="HR", name="Human resources", category="hr")
    cluster = ClusterFactory(
        code="HR-TECH", name="Technology HR", service=service, provider=world.tech_provider
    )
    for department, baseline in ((world.lcs, "30000.00"), (world.env, "18250.00")):
        MembershipFactory(
            department=department,
            cluster=cluster,
            joined_on=datetime.date(2026, 6, 1),
            usage_units=100,
            baseline_annual_cost=Decimal(baseline),
        )
    cost_pool_create(actor=None, cluster=cluster, period=month, amount=Decimal("3100.00"))
    join_by = timezone.localdate() + datetime.timedelta(days=30)
    programme = programme_propose(
        actor=world.administrator,
        code=PROGRAMME,
        name="HR for every ministry",
        service=service,
        sponsor=world.deputy_minister,
        goal="Every ministry on one shared HR service.",
        target_on=join_by,
        departments=[world.lcs, world.env, world.fin],
    )
    for department in (world.lcs, world.env):
        commitment_answer(
            actor=world.administrator,
            commitment=Commitment.objects.get(programme=programme, department=department),
            answer=Answer.COMMITTED,
            join_by=join_by,
        )
    return programme.decisions.get().case_id


def _pilot_before_the_run(world: World) -> tuple[Any, list[datetime.date]]:
    """Digital mail in pilot (one cluster run by TECHSVC): LCS, ENV and FIN members for the
    last three months, a 2,400 pool each month and each member's return (ENV's first
    misses the standard). Its months are charged by the caller."""
    service = ServiceFactory(
        code=PILOT, name="Digital mail", category="it", lifecycle=Lifecycle.PILOT
    )
    standard = StandardFactory(
        service=service, name="Delivered the same day", unit="%", target="95"
    )
    cluster = ClusterFactory(
        code="MAIL-TECH", name="Technology Mail", service=service, provider=world.tech_provider
    )
    months = [months_back(n) for n in (3, 2, 1)]
    for department in (world.lcs, world.env, world.fin):
        MembershipFactory(
            department=department,
            cluster=cluster,
            joined_on=months[0],
            usage_units=100,
            baseline_annual_cost=Decimal("12000.00"),
        )
    for month in months:
        cost_pool_create(actor=None, cluster=cluster, period=month, amount=Decimal("2400.00"))
        for department in (world.lcs, world.env, world.fin):
            missed = department == world.env and month == months[0]
            Measurement.objects.create(
                standard=standard,
                cluster=cluster,
                department=department,
                period=month,
                value=Decimal("90" if missed else "97"),
                submitted_by=world.other_provider_manager,
                submitted_at=timezone.now(),
            )
    return cluster, months


def _pilot(world: World, cluster, months: list[datetime.date]) -> int:
    """The pilot's plan, running to two months from now, put to the board: the page shows
    its evidence so far (with the board) and the case the evidence it was compiled with."""
    plan = pilot_plan_create(
        actor=None,
        service=cluster.service,
        clusters=[cluster],
        starts_on=months[0],
        ends_on=timezone.localdate() + datetime.timedelta(days=60),
        min_compliance_rate=Decimal("85"),
        max_cost_per_unit=Decimal("10.00"),
        min_members=3,
    )
    return pilot_evaluate(actor=world.administrator, plan=plan).case_id


@pytest.fixture
def scenario(world: World) -> Scenario:
    """Money and board cases in the personas' world, written by the system (actor None):
    a budget, pools and a run, an exit request's case, a programme whose departments that
    joined were charged, and a pilot with pools, charges and returns, with the board."""
    month = datetime.date(2026, 10, 1)
    pilot_cluster, pilot_months = _pilot_before_the_run(world)
    budget_line_create(
        actor=None,
        department=world.lcs,
        fiscal_year="2026-27",
        service=world.payroll,
        allocated=Decimal("500000.00"),
    )
    cost_pool_create(actor=None, cluster=world.pay_psoa, period=month, amount=Decimal("70000.00"))
    cost_pool_create(actor=None, cluster=world.pay_tech, period=month, amount=Decimal("21000.00"))
    cost_pool_create(actor=None, cluster=world.it_tech, period=month, amount=Decimal("35350.00"))
    programme_case_id = _programme(world, month)
    run = chargeback_run(actor=None, period=month)
    for pilot_month in pilot_months:
        if pilot_month != month:
            chargeback_run(actor=None, period=pilot_month)
    pilot_case_id = _pilot(world, pilot_cluster, pilot_months)
    # ENV asks to move from the PSOA's payroll to TECH's: a board case, and TECH's provider
    # manager (the destination) may read the request only in part.
    request = exit_request_submit(
        actor=world.other_manager,
        department=world.env,
        from_cluster=world.pay_psoa,
        destination=Destination.CLUSTER,
        to_cluster=world.pay_tech,
        reason=Reason.COST,
        justification="Technology quotes 20% less per payslip.",
    )
    case = request.board_case
    vote_cast(actor=world.deputy_minister, case=case, choice="approve")
    return Scenario(
        world=world,
        exit_request_id=request.pk,
        case_id=case.pk,
        run_id=run.pk,
        programme_case_id=programme_case_id,
        pilot_case_id=pilot_case_id,
    )


def _api_client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        _, key = AuthToken.objects.create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _decimals(value: Any) -> set[Decimal]:
    if isinstance(value, dict):
        return set().union(*(_decimals(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_decimals(v) for v in value)) if value else set()
    if isinstance(value, str) and API_DECIMAL.match(value):
        # Unit costs have four decimals in the API; pages show them to the cent.
        return {Decimal(value).quantize(Decimal("0.01"))}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {Decimal(str(value)).quantize(Decimal("0.01"))}
    return set()


def _page_figures(html: str) -> set[Decimal]:
    main = MAIN.search(html)
    # The text a person reads: tags and their attributes (an SVG's dy="0.35em") left out.
    text = TAG.sub(" ", main.group(0) if main else html)
    return {Decimal(m.replace(",", "")) for m in MONEY.findall(text)}


@pytest.mark.parametrize("pair", PAIRS, ids=[p.name for p in PAIRS])
def test_page_and_api_agree(scenario: Scenario, pair: Pair):
    disagreements = []
    checked_figures = 0
    for persona in PERSONAS:
        user = scenario.world.personas()[persona]
        page_client = Client()
        if user is not None:
            page_client.force_login(user)
        page = page_client.get(pair.page(scenario))
        api = _api_client(user)
        detail = api.get(pair.api(scenario))
        if (page.status_code == 200) != (detail.status_code == 200):
            disagreements.append(f"{persona}: page {page.status_code}, API {detail.status_code}")
            continue
        if page.status_code != 200:
            continue
        given = _decimals(detail.json())
        for url in pair.sources(scenario):
            response = api.get(url)
            if response.status_code == 200:
                given |= _decimals(response.json())
        given |= {abs(a - b) for a, b in combinations(given, 2)}
        shown = _page_figures(page.content.decode())
        checked_figures += len(shown)
        extra = sorted(abs(f) for f in shown if abs(f) not in given)
        if extra:
            disagreements.append(f"{persona}: page shows {extra}, which the API does not give")
    assert disagreements == []
    if pair.shows_money or pair.name.startswith(("exit request", "case", "cluster performance")):
        # These pages show money to someone: the comparison must have had figures to check.
        assert checked_figures > 0


def test_a_figure_only_the_page_shows_is_caught():
    # The comparison itself: a figure on the page that no API source gives is reported.
    html = "<main><p>Baseline 123,456.00 and 99.50% met</p></main>"
    assert _page_figures(html) == {Decimal("123456.00")}
    assert Decimal("123456.00") not in _decimals({"amount": "100.00", "rate": "99.50"})

"""Permission-matrix rows of the exit pages.

A membership or request one may not see is 404; one may see but not act on is 403:
giving and withdrawing notice is for the department's managers, its deputy minister and
administrators. Pages posted without a form's fields answer 400 to those allowed; the
check step with no answers waiting sends them back to step 1 (302).
"""

from __future__ import annotations

from defection import services
from defection.models import Destination, Reason
from tests.factories import ClusterFactory
from tests.matrix import PAGE, Row, statuses
from tests.personas import World

SIGNED_OUT = 302  # pages send the signed-out to sign in


def _acting(allowed: int) -> dict[str, int]:
    """LCS's payroll membership (or its request): LCS's people and administrators act; the
    analyst, ENV (a co-member) and the PSOA's manager see it but may not act; FIN's deputy
    minister and TECH's manager cannot see it."""
    return statuses(
        403,
        SIGNED_OUT,
        administrator=allowed,
        manager=allowed,
        deputy_minister=allowed,
        recused_deputy_minister=404,
        other_provider_manager=404,
    )


# A move to a PSOA cluster needs no board, so FIN's deputy minister does not see it.
REQUEST_READ = statuses(200, SIGNED_OUT, recused_deputy_minister=404, other_provider_manager=404)


def _leave(w: World) -> str:
    return f"/memberships/{w.lcs_payroll.pk}/leave/"


def _request(w: World) -> int:
    """LCS gives notice to move its payroll to a second PSOA cluster (scheduled)."""
    east = ClusterFactory(code="PAY-PSOA-2", service=w.payroll, provider=w.psoa)
    return services.exit_request_submit(
        actor=w.manager,
        department=w.lcs,
        from_cluster=w.pay_psoa,
        destination=Destination.CLUSTER,
        to_cluster=east,
        reason=Reason.COST,
        justification="Cheaper in the east.",
    ).pk


ROWS: list[Row] = [
    Row("exit-requests/", lambda w: "/exit-requests/", {"GET": PAGE}),
    Row(
        "exit-requests/<pk>/",
        lambda w: f"/exit-requests/{_request(w)}/",
        {"GET": REQUEST_READ},
    ),
    Row(
        "exit-requests/<pk>/withdraw/",
        lambda w: f"/exit-requests/{_request(w)}/withdraw/",
        {"GET": _acting(200), "POST": _acting(302)},  # withdrawn, back to the request
    ),
    Row("memberships/<pk>/leave/", _leave, {"GET": _acting(200), "POST": _acting(400)}),
    Row(
        "memberships/<pk>/leave/check/",
        lambda w: f"{_leave(w)}check/",
        {"GET": _acting(302), "POST": _acting(302)},
    ),
]

"""Permission-matrix rows of the programmes' API.

Every signed-in user reads programmes and their commitments. Administrators and deputy
ministers (LCS's and FIN's) propose one (201); everyone else is refused (403). ITNOW
targets LCS and ENV: LCS's answer is given by its manager, its deputy minister or an
administrator (200), and refused to everyone else (403). Every signed-in user reads the
benefit to date of the departments that joined (the rows and the total as each may see
them). Nothing else is written here (405).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from initiatives.services import programme_propose
from tests.matrix import API_READ, Row, statuses
from tests.personas import World

PROGRAMMES = "/api/v1/programmes/"
NOT_ALLOWED = statuses(405, 401)
PROPOSE = statuses(403, 401, administrator=201, deputy_minister=201, recused_deputy_minister=201)
ANSWER_FOR_LCS = statuses(403, 401, administrator=200, manager=200, deputy_minister=200)


def _in_days(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def _programme(w: World) -> str:
    return programme_propose(
        actor=w.deputy_minister,
        code="ITNOW",
        name="Desktop IT for every ministry",
        service=w.it,
        sponsor=w.deputy_minister,
        goal="Every ministry on one shared desktop service.",
        target_on=timezone.localdate() + datetime.timedelta(days=180),
        departments=[w.lcs, w.env],
    ).code


def _proposal(w: World) -> dict[str, Any]:
    return {
        "code": "PAYALL",
        "name": "Payroll for all",
        "service": "PAY",
        "sponsor": "dm_fin",
        "goal": "One payroll.",
        "target_on": _in_days(120),
        "departments": ["ENV", "TECH"],
    }


ROWS: list[Row] = [
    Row(
        "api/v1/programmes/",
        lambda w: PROGRAMMES,
        {"GET": API_READ, "POST": PROPOSE},
        body=_proposal,
    ),
    Row(
        "api/v1/programmes/<code>/",
        lambda w: f"{PROGRAMMES}{_programme(w)}/",
        {"GET": API_READ, "PUT": NOT_ALLOWED, "PATCH": NOT_ALLOWED, "DELETE": NOT_ALLOWED},
    ),
    Row(
        "(no such programme, API)",
        lambda w: f"{PROGRAMMES}NOPE/",
        {"GET": statuses(404, 401)},
    ),
    Row(
        "api/v1/programmes/<code>/benefit/",
        lambda w: f"{PROGRAMMES}{_programme(w)}/benefit/",
        {
            "GET": API_READ,
            "POST": NOT_ALLOWED,
            "PUT": NOT_ALLOWED,
            "PATCH": NOT_ALLOWED,
            "DELETE": NOT_ALLOWED,
        },
    ),
    Row(
        "(no such programme's benefit, API)",
        lambda w: f"{PROGRAMMES}NOPE/benefit/",
        {"GET": statuses(404, 401)},
    ),
    Row(
        "api/v1/programmes/<programme_code>/commitments/",
        lambda w: f"{PROGRAMMES}{_programme(w)}/commitments/",
        {"GET": API_READ, "POST": NOT_ALLOWED},
    ),
    Row(
        "api/v1/programmes/<programme_code>/commitments/<department_code>/",
        lambda w: f"{PROGRAMMES}{_programme(w)}/commitments/LCS/",
        {
            "GET": API_READ,
            "PUT": ANSWER_FOR_LCS,
            "PATCH": NOT_ALLOWED,
            "DELETE": NOT_ALLOWED,
        },
        body=lambda w: {"answer": "committed", "join_by": _in_days(90)},
    ),
]

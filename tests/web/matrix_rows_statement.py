"""Permission-matrix rows of the annual benefits statement: its pages, its CSV tables and
`reports/benefits-statement/` in the API.

Everyone signed in reads the statement (each figure as the gate allows, which
tests/web/test_statement.py checks); the signed-out go to sign in (pages) or get a 401
(the API). `/statement/` sends everyone to the last complete fiscal year. The API's report
answers GET only (405 to the other methods).
"""

from __future__ import annotations

from tests.matrix import PAGE, Row, statuses

FY = "2025-26"
EVERY_METHOD = ("POST", "PUT", "PATCH", "DELETE")

ROWS = [
    Row("statement/", lambda w: "/statement/", {"GET": statuses(302, 302)}),
    Row("statement/<fiscal_year>/", lambda w: f"/statement/{FY}/", {"GET": PAGE}),
    Row(
        "statement/<fiscal_year>/<table>.csv",
        lambda w: f"/statement/{FY}/clusters.csv",
        {"GET": PAGE},
    ),
    Row(
        "api/v1/reports/benefits-statement/",
        lambda w: f"/api/v1/reports/benefits-statement/?fiscal_year={FY}",
        {"GET": statuses(200, 401), **{m: statuses(405, 401) for m in EVERY_METHOD}},
    ),
]

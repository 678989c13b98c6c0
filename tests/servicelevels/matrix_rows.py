"""Permission-matrix rows of the service-level pages.

A provider's scorecard is its own managers', administrators' and analysts' (403 for the
rest: providers are known to exist); its returns are uploaded by its managers and
administrators. A department's service levels are its own people's, administrators' and
analysts': anyone else gets 404, its existence being private. A cluster's performance
(prices, compliance) is public to every signed-in user, its benefit totals gated; the
overview for administrators and analysts. An upload posted without a file answers 400 to
those allowed to upload.
"""

from __future__ import annotations

from tests.matrix import Row, statuses

SIGNED_OUT = 302  # pages send the signed-out to sign in

SCORECARD = statuses(403, SIGNED_OUT, administrator=200, analyst=200, provider_manager=200)
UPLOAD_FORM = statuses(403, SIGNED_OUT, administrator=200, provider_manager=200)
UPLOAD_POST = statuses(403, SIGNED_OUT, administrator=400, provider_manager=400)
# No preview waiting: those allowed are sent back to the upload page.
UPLOAD_CONFIRM = statuses(403, SIGNED_OUT, administrator=302, provider_manager=302)
DEPARTMENT_LEVELS = statuses(
    404, SIGNED_OUT, administrator=200, analyst=200, manager=200, deputy_minister=200
)
# PAY-PSOA: LCS and ENV are members; FIN hosts the PSOA but is no member.
# Cluster prices and compliance are public to every signed-in user (benefit totals gated).
PERFORMANCE = statuses(200, SIGNED_OUT)
OVERVIEW = statuses(403, SIGNED_OUT, administrator=200, analyst=200)

ROWS: list[Row] = [
    Row(
        "providers/<code>/scorecard/",
        lambda w: "/providers/PSOA/scorecard/",
        {"GET": SCORECARD, "POST": statuses(405, SIGNED_OUT)},
    ),
    Row(
        "providers/<code>/returns/upload/",
        lambda w: "/providers/PSOA/returns/upload/",
        {"GET": UPLOAD_FORM, "POST": UPLOAD_POST},
    ),
    Row(
        "providers/<code>/returns/upload/confirm/",
        lambda w: "/providers/PSOA/returns/upload/confirm/",
        {"POST": UPLOAD_CONFIRM, "GET": statuses(405, SIGNED_OUT)},
    ),
    Row(
        "departments/<code>/service-levels/",
        lambda w: "/departments/LCS/service-levels/",
        {"GET": DEPARTMENT_LEVELS},
    ),
    Row(
        "clusters/<code>/performance/",
        lambda w: "/clusters/PAY-PSOA/performance/",
        {"GET": PERFORMANCE},
    ),
    Row(
        "overview/",
        lambda w: "/overview/",
        {"GET": OVERVIEW, "POST": statuses(405, SIGNED_OUT)},
    ),
]

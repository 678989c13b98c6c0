"""Permission-matrix rows of the programme pages: every signed-in user reads programmes
and their answers; a programme nobody proposed is 404 to all."""

from __future__ import annotations

import datetime

from django.utils import timezone

from initiatives.services import programme_propose
from tests.matrix import PAGE, Row, statuses
from tests.personas import World


def _programme(w: World) -> str:
    programme = programme_propose(
        actor=w.deputy_minister,
        code="ITNOW",
        name="Desktop IT for every ministry",
        service=w.it,
        sponsor=w.deputy_minister,
        goal="Every ministry on one shared desktop service.",
        target_on=timezone.localdate() + datetime.timedelta(days=180),
        departments=[w.env, w.fin],
    )
    return f"/programmes/{programme.code}/"


ROWS = [
    Row("programmes/", lambda w: "/programmes/", {"GET": PAGE}),
    Row("programmes/<code>/", _programme, {"GET": PAGE}),
    Row("(no such programme)", lambda w: "/programmes/NOPE/", {"GET": statuses(404, 302)}),
]

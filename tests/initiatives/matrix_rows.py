"""Permission-matrix rows of the programme pages: every signed-in user reads programmes
and their answers; a programme nobody proposed is 404 to all. Proposing one is for
administrators and deputy ministers (`initiatives.add_programme`); answering for a target
department for its people and administrators (`initiatives.answer_commitment`). A form
posted without its fields answers 400 to those allowed, 403 to the others."""

from __future__ import annotations

import datetime

from django.utils import timezone

from initiatives.services import programme_propose
from tests.matrix import PAGE, Row, statuses
from tests.personas import World

SIGNED_OUT = 302  # pages send the signed-out to sign in
PROPOSERS = ("administrator", "deputy_minister", "recused_deputy_minister")


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


def _proposing(allowed: int) -> dict[str, int]:
    return statuses(403, SIGNED_OUT, **dict.fromkeys(PROPOSERS, allowed))


def _answering(allowed: int) -> dict[str, int]:
    """ENV's answer: ENV's manager and administrators; not LCS's or FIN's deputy minister."""
    return statuses(403, SIGNED_OUT, administrator=allowed, other_manager=allowed)


def _answer(w: World) -> str:
    return f"{_programme(w)}answers/ENV/"


ROWS = [
    Row(
        "programmes/new/",
        lambda w: "/programmes/new/",
        {"GET": _proposing(200), "POST": _proposing(400)},
    ),
    Row(
        "programmes/<code>/answers/<department>/",
        _answer,
        {"GET": _answering(200), "POST": _answering(400)},
    ),
    Row(
        "(a department the programme does not name)",
        lambda w: f"{_programme(w)}answers/LCS/",
        {"GET": statuses(404, SIGNED_OUT)},
    ),
    Row("programmes/", lambda w: "/programmes/", {"GET": PAGE}),
    Row("programmes/<code>/", _programme, {"GET": PAGE}),
    Row("(no such programme)", lambda w: "/programmes/NOPE/", {"GET": statuses(404, 302)}),
]

"""Field-level matrix rows of notifications: a notification, and every field of it, is
read by its recipient alone (the LCS manager's here). Administrators and analysts, who
read every other row of the API, do not read another's notifications: for them the row
is a 404, so they are not among its readers."""

from __future__ import annotations

from notifications.models import Notification, NotificationKind
from notifications.services import notify
from tests.field_matrix import FieldRow
from tests.personas import World

BASE = "/api/v1/notifications/"
RECIPIENT = frozenset({"manager"})


def _mine(w: World) -> Notification:
    if not hasattr(w, "notification"):
        [w.notification] = notify(  # type: ignore[attr-defined]
            recipients=[w.manager],
            kind=NotificationKind.EXIT_NOTICE,
            subject="ENV gives notice to leave PAY-PSOA",
            body="Justification: cheaper elsewhere.",
            link="/exit-requests/",
        )
    return w.notification  # type: ignore[attr-defined]


FIELD_ROWS: list[FieldRow] = [
    *(
        FieldRow(
            name=f"notification: {field}",
            url=lambda w: f"{BASE}{_mine(w).pk}/",
            field=field,
            seen_by=RECIPIENT,
            readers=RECIPIENT,
            setup=_mine,
        )
        for field in ("subject", "body", "link")
    ),
    FieldRow(
        name="notifications listed: body",
        url=lambda w: BASE,
        field="body",
        seen_by=RECIPIENT,
        readers=RECIPIENT,
        pick=lambda w, row: row["id"] == _mine(w).pk,
        setup=_mine,
    ),
]

"""Baselines served beside the app: the least a view can do for the same answer.

`BareMemberships` is a DRF view with no authentication, permission, filter, pagination or
serializer: it answers a fixed page of 50 memberships (read once, on the first request) in
the shape of `GET /api/v1/memberships/`. Our list must keep to a share of its speed.

`ReportFloor` is the least a report of the API can cost: a DRF view with the API's own
authentication and permission (the defaults) that answers five constant rows, routed after
the app's urls. bench/reports.py times it beside the small reports, whose fixed cost it is.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

_PAGE: dict[str, Any] = {}


def _fixed_page() -> dict[str, Any]:
    if not _PAGE:
        from clusters.models import Membership

        rows = Membership.objects.select_related("department", "cluster").order_by("pk")[:50]
        _PAGE.update(
            count=Membership.objects.count(),
            next=None,
            previous=None,
            results=[
                {
                    "id": m.pk,
                    "department": m.department.code,
                    "cluster": m.cluster.code,
                    "joined_on": m.joined_on.isoformat(),
                    "leaves_on": m.leaves_on.isoformat() if m.leaves_on else None,
                    "usage_units": m.usage_units,
                    "baseline_annual_cost": str(m.baseline_annual_cost),
                    "status": "active",
                }
                for m in rows
            ],
        )
    return _PAGE


class BareMemberships(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]

    def get(self, request):
        return Response(_fixed_page())


# Five rows in the shape of `reports/self-preference/`.
_FLOOR_ROWS = [
    {
        "cluster": f"PAY-{n}",
        "provider": "PSOA",
        "host_department": "LCS",
        "host_rate": "90.0",
        "others_rate": "80.0",
        "gap": "10.0",
        "flagged": False,
        "from_period": "2026-06",
        "to_period": "2026-11",
    }
    for n in range(5)
]


class ReportFloor(APIView):
    renderer_classes = [JSONRenderer]

    def get(self, request):
        return Response({"count": 5, "next": None, "previous": None, "results": _FLOOR_ROWS})

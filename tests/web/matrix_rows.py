"""Permission-matrix rows of the load balancer's probes: nobody signs in for them.

`/readyz` is red in the tests when Redis is configured (no Celery worker answers the
ping there) and green without it (no broker or worker check); either way it answers the
same to everyone, signed in or not. tests/sharedsvc/test_health.py turns it green and red.
"""

from __future__ import annotations

from django.conf import settings

from tests.matrix import Row, statuses

READY = 503 if settings.REDIS_URL else 200

ROWS = [
    Row("healthz", lambda w: "/healthz", {"GET": statuses(200, 200)}),
    Row("readyz", lambda w: "/readyz", {"GET": statuses(READY, READY)}),
]

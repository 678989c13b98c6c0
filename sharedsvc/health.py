"""Health and readiness for a load balancer (django-health-check).

- `/healthz`: the process answers (no database, no broker): restart it if this fails.
- `/readyz`: PostgreSQL, the cache and, with Redis configured, the broker and at least one
  Celery worker answer, each with the time it took; 503 with a JSON body naming what is
  down when one of them is: send it no traffic until it is green again.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from health_check.checks import Cache, Database
from health_check.contrib.celery import Ping
from health_check.contrib.redis import Redis
from health_check.views import HealthCheckView
from redis.asyncio import Redis as RedisClient

from sharedsvc.celery import app as celery_app

CHECK_NAMES = {Database: "database", Cache: "cache", Redis: "broker", Ping: "worker"}


def readiness_checks() -> list[tuple[type, dict[str, Any]]]:
    checks: list[tuple[type, dict[str, Any]]] = [(Database, {}), (Cache, {})]
    if settings.REDIS_URL:
        url = celery_app.conf.broker_url  # the broker the workers and the outbox use
        checks.append(
            (
                Redis,
                {
                    "client_factory": lambda: RedisClient.from_url(
                        url, socket_connect_timeout=1, socket_timeout=2
                    )
                },
            )
        )
        # A worker on the same network answers a ping well within a second.
        timeout = datetime.timedelta(seconds=settings.READINESS_PING_SECONDS)
        checks.append((Ping, {"app": celery_app, "timeout": timeout}))
    return checks


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


class ReadinessView(HealthCheckView):
    """Always JSON: `{"status": "ok"|"down", "checks": {name: {"ok", "error", "seconds"}}}`."""

    @property
    def checks(self):  # type: ignore[override]
        return readiness_checks()

    async def get(self, request, *args, **kwargs):
        with self.get_executor() as executor:
            self.results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        checks = {
            CHECK_NAMES.get(type(result.check), type(result.check).__name__.lower()): {
                "ok": result.error is None,
                "error": None if result.error is None else str(result.error),
                "seconds": round(result.time_taken, 4),
            }
            for result in self.results
        }
        down = sorted(name for name, check in checks.items() if not check["ok"])
        body = {"status": "down" if down else "ok", "down": down, "checks": checks}
        return JsonResponse(body, status=503 if down else 200)


readyz = ReadinessView.as_view()

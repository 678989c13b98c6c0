"""Health and readiness on real servers: `/readyz` turns red and green as a Redis of the
test's own stops and starts, with a real Celery worker answering the ping; the cache
degrades instead of raising; the API answers a 500 in JSON with a reference."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from sharedsvc.errors import SERVER_ERROR
from tests.servers import RedisServer, broker, celery_worker, wait_for
from web.urls import urlpatterns as site_urlpatterns


def readiness(client: Client) -> tuple[int, dict]:
    response = client.get("/readyz")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def test_healthz_answers_without_the_database(client):
    # No database fixture: any query would fail this test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.fixture
def own_redis(settings):
    """Cache and broker on a Redis of the test's own, restored afterwards."""
    server = RedisServer()
    server.start()
    settings.REDIS_URL = server.url
    settings.READINESS_PING_SECONDS = 1.0
    settings.CACHES = {
        "default": {
            "BACKEND": "sharedsvc.cache.DegradingRedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    try:
        with broker(server):
            yield server
    finally:
        server.close()


def test_readyz_turns_red_and_green_with_redis(transactional_db, own_redis):
    client = Client()
    # A real worker, in a process of its own, on the test's Redis.
    with celery_worker(broker_url=own_redis.url):
        assert wait_for(lambda: readiness(client)[0] == 200, seconds=45), readiness(client)
        status, body = readiness(client)
        assert body["status"] == "ok" and body["down"] == []
        assert set(body["checks"]) == {"database", "cache", "broker", "worker"}
        assert all(check["seconds"] >= 0 for check in body["checks"].values())

        own_redis.stop()
        status, body = readiness(client)
        assert status == 503
        assert body["status"] == "down"
        assert {"broker", "cache", "worker"} <= set(body["down"])
        assert body["checks"]["database"]["ok"] is True
        assert body["checks"]["broker"]["error"]

        own_redis.start()
        # The worker reconnects by itself; the load balancer sees green again.
        assert wait_for(lambda: readiness(client)[0] == 200, seconds=60), readiness(client)


def test_the_cache_degrades_when_redis_is_down(own_redis, caplog):
    cache.set("k", "v", 30)
    assert cache.get("k") == "v"
    own_redis.stop()
    with caplog.at_level(logging.WARNING, logger="sharedsvc.cache"):
        assert cache.get("k", "default") == "default"
        cache.set("k", "w", 30)  # skipped, not raised
        assert cache.add("other", 1) is False
        assert cache.get_many(["k", "other"]) == {}
    own_redis.start()
    cache.set("k", "x", 30)
    assert cache.get("k") == "x"


def test_pages_and_sessions_work_while_redis_is_down(world, own_redis):
    client = Client()
    client.force_login(world.manager)
    own_redis.stop()
    assert client.get("/departments/LCS/").status_code == 200
    assert client.get("/api/v1/memberships/").status_code == 200


@api_view(["GET"])
@permission_classes([AllowAny])
def _broken(request):
    raise RuntimeError("a bug nobody foresaw")


def _broken_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(1 / 0)  # the bug


urlpatterns = [path("api/v1/broken/", _broken), path("broken/", _broken_page)]
urlpatterns += site_urlpatterns
handler500 = "sharedsvc.views.server_error"


@pytest.mark.urls("tests.sharedsvc.test_health")
def test_an_api_500_is_json_with_a_reference_that_is_in_the_log(db, caplog):
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/broken/", HTTP_X_REQUEST_ID="ref-123")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": SERVER_ERROR, "reference": "ref-123"}
    assert response["X-Request-ID"] == "ref-123"
    assert any(
        getattr(record, "request_id", None) == "ref-123" and record.exc_info
        for record in caplog.records
    )


@pytest.mark.urls("tests.sharedsvc.test_health")
def test_a_page_500_is_the_house_page_with_its_reference(db):
    client = Client(raise_request_exception=False)
    response = client.get("/broken/", HTTP_X_REQUEST_ID="ref-456")
    assert response.status_code == 500
    text = response.content.decode()
    assert "Sorry, there is a problem with the service" in text
    assert "ref-456" in text


def test_an_unsafe_request_id_is_replaced(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32

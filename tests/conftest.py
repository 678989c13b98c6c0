from __future__ import annotations

import os

import pytest
from django.conf import settings
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests import clock, shared
from tests.clock import ENV as TEST_TODAY
from tests.clock import suite_start
from tests.personas import build_world
from tests.shared import shared_fixture

# Tests create many users: a fast hasher (the real one is tested by signing in).
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests do not run collectstatic; serve static files from the finders without a manifest.
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Each pytest process gets a test database of its own, so two runs on one machine (a
# developer's and a helper's, or CI's beside a local one) never drop each other's.
_db = settings.DATABASES["default"]
_db.setdefault("TEST", {})["NAME"] = f"test_{_db['NAME']}_{os.getpid()}"


def pytest_configure(config):
    # `TEST_TODAY=2027-04-02`: this process's clock starts on that day (tests/clock.py).
    clock.start(config)


def pytest_report_header(config):
    today = os.environ.get(TEST_TODAY, "").strip()
    return f"clock: starts on {suite_start(today).isoformat()} ({TEST_TODAY})" if today else None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # Before any fixture of the test: roll back the shared layers it does not run in.
    shared.before(item)


@pytest.fixture(scope="session")
def _shared_layers(django_db_setup, django_db_blocker):
    yield django_db_blocker
    shared.finish()


@pytest.fixture(autouse=True)
def _shared(request):
    """Builds the shared layers the test runs in (tests/shared.py), before its `db`."""
    if shared.wanted(request.node):
        shared.enter(request, request.getfixturevalue("_shared_layers"))
    yield
    request.node.__dict__.pop("_shared_values", None)


# The world: built once for the tests that use it one after another, each in a savepoint.
world = shared_fixture(name="world")(build_world)


@pytest.fixture
def api():
    """An API client; `api.as_user(user)` signs in with a real knox token."""

    client = APIClient()

    def as_user(user):
        client.credentials()
        if user is not None:
            _, key = AuthToken.objects.create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    client.as_user = as_user  # type: ignore[attr-defined]
    return client

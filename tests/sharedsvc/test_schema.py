"""The OpenAPI schema is valid and true: schemathesis calls every operation in-process.

Signed in as every persona (knox tokens), generated requests must never get a server
error, and every response must match the schema (status code, content type, headers,
body). Those who read everything get the most examples; the personas who act for one
department or provider fewer each, since most of their requests end in the same refusals
(issue 9 found a 500 and a broken contract that only they reached). `positive_data_acceptance` is left out on purpose: a request that
is valid by the schema may still name a code that does not exist (`?department=NOPE`,
`{"cluster": "XYZ"}`), and the contract answers that with a 400; codes are data, so the
schema cannot list them.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from schemathesis.specs.openapi.checks import positive_data_acceptance

from sharedsvc.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)


@pytest.fixture
def keep_test_connection():
    # Called as a WSGI app (not through Django's test client), each request would close
    # the test's connection at its end and lose the test transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def plain_static(settings):
    """Templates resolve `{% static %}` without a collectstatic manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


READERS = ["analyst", "administrator"]
ACTORS = [
    "manager",
    "other_manager",
    "deputy_minister",
    "recused_deputy_minister",
    "provider_manager",
    "other_provider_manager",
]


def _token(world, persona: str) -> str:
    _, key = AuthToken.objects.create(user=getattr(world, persona))
    return key


@pytest.fixture(params=READERS)
def token(request, world, keep_test_connection, plain_static):
    return _token(world, request.param)


@pytest.fixture(params=ACTORS)
def actor_token(request, world, keep_test_connection, plain_static):
    return _token(world, request.param)


def _call(case, token: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Token {token}"}, excluded_checks=[positive_data_acceptance]
    )


@schema.parametrize()
@settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, token):
    _call(case, token)


@schema.parametrize()
@settings(max_examples=4, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema_for_every_persona(case, actor_token):
    _call(case, actor_token)


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "tokenAuth" in text
    assert "/api/v1/memberships/{id}/" in text

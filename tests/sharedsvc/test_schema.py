"""The OpenAPI schema is valid and true: schemathesis calls every operation in-process.

Signed in as every persona (knox tokens), generated requests must never get a server
error, and every response must match the schema (status code, content type, headers,
body). Each example draws its persona, readers and the personas who act for one department
or provider alike (issue 9 found a 500 and a broken contract that only the latter reached). `positive_data_acceptance` is left out on purpose: a request that
is valid by the schema may still name a code that does not exist (`?department=NOPE`,
`{"cluster": "XYZ"}`), and the contract answers that with a 400; codes are data, so the
schema cannot list them.
"""

from __future__ import annotations

import hashlib
import json

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.renderers import OpenApiJsonRenderer2
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis.specs.openapi.schemas import OpenApiSchema

from sharedsvc.api.docs import SchemaView
from sharedsvc.wsgi import application


def served_schema() -> OpenApiSchema:
    """The schema the API serves (the view's own generator and renderer), called through
    the WSGI application. It is built in-process because the schema is for signed-in users
    and nobody can sign in while the tests are collected (there is no database yet)."""
    raw = SchemaView().generator_class(urlconf=None).get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer2().render(raw)))
    loaded.app = application
    loaded.location = "/api/v1/schema/"
    return loaded


schema = served_schema()


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


PERSONAS = [
    "analyst",
    "administrator",
    "manager",
    "other_manager",
    "deputy_minister",
    "recused_deputy_minister",
    "provider_manager",
    "other_provider_manager",
]


@pytest.fixture
def tokens(world, keep_test_connection, plain_static) -> dict[str, str]:
    """A knox token for every signed-in persona, made once per operation."""
    return {p: AuthToken.objects.create(user=getattr(world, p))[1] for p in PERSONAS}


def persona_of(case) -> str:
    """Each example's persona, chosen from its own data: the same example always runs as
    the same persona, so hypothesis can replay and shrink a failure."""
    data = repr((case.path_parameters, case.query, case.body))
    digest = hashlib.sha256(data.encode()).digest()
    return PERSONAS[digest[0] % len(PERSONAS)]


# One test per operation, each example as one of the personas: the world is built once per
# operation rather than once per operation and persona. Eight examples an operation, drawn
# anew on every run: with 66 operations, twelve made this file over a quarter of the
# suite's time (24 had made it a seventh with half as many).
@schema.parametrize()
@settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, tokens):
    persona = persona_of(case)
    try:
        case.call_and_validate(
            headers={"Authorization": f"Token {tokens[persona]}"},
            excluded_checks=[positive_data_acceptance],
        )
    except Exception as failure:
        failure.add_note(f"Signed in as the persona {persona!r}.")
        raise


def test_examples_are_spread_over_the_personas():
    class Case:
        def __init__(self, n):
            self.path_parameters, self.query, self.body = {"id": n}, {}, None

    assert {persona_of(Case(n)) for n in range(200)} == set(PERSONAS)


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "tokenAuth" in text
    assert "/api/v1/memberships/{id}/" in text

from __future__ import annotations

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.personas import World, build_world


@pytest.fixture
def world(db) -> World:
    return build_world()


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

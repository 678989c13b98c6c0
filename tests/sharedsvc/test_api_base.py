"""The API's shared plumbing: authentication, pagination, CSV, errors, docs without a CDN."""

from __future__ import annotations

import csv
import io
import re

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from clusters.models import Department
from sharedsvc.api.pagination import MAX_PAGE_SIZE, PAGE_INVALID, PAGE_SIZE_INVALID
from tests.factories import DepartmentFactory, UserFactory

DEPARTMENTS = "/api/v1/departments/"
CSRF_SECRET = "a" * 32  # Django accepts an unmasked 32-character secret as the token.


@pytest.fixture
def plain_static(settings):
    """Templates resolve `{% static %}` without a collectstatic manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# Token authentication ------------------------------------------------------------------


def test_knox_token_in_authorization_header_signs_in(world):
    _, key = AuthToken.objects.create(user=world.analyst)
    client = APIClient()
    response = client.get(DEPARTMENTS, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200, response.content
    assert [d["code"] for d in response.json()["results"]] == ["ENV", "FIN", "LCS", "TECH"]


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Token not-a-real-token",
        "Token " + "0" * 64,
        "Bearer {key}",  # right key, wrong scheme word
        "Token",
        "Token {key} extra",
    ],
)
def test_missing_or_bad_token_is_401(world, header):
    _, key = AuthToken.objects.create(user=world.analyst)
    client = APIClient()
    kwargs = {} if header is None else {"HTTP_AUTHORIZATION": header.format(key=key)}
    response = client.get(DEPARTMENTS, **kwargs)
    assert response.status_code == 401, response.content
    assert response.json()["detail"]
    assert response["WWW-Authenticate"] == "Token"


def test_token_of_inactive_user_is_401(world):
    _, key = AuthToken.objects.create(user=world.outsider)
    response = APIClient().get(DEPARTMENTS, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401


def test_deleted_token_no_longer_signs_in(world):
    token, key = AuthToken.objects.create(user=world.analyst)
    token.delete()
    response = APIClient().get(DEPARTMENTS, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401


# Session authentication ----------------------------------------------------------------


def test_session_sign_in_reads(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.analyst)
    response = client.get(DEPARTMENTS)
    assert response.status_code == 200
    assert response.json()["count"] == 4


def test_session_write_without_csrf_token_is_refused(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.administrator)
    response = client.post(DEPARTMENTS, {"code": "NEW", "name": "New"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Department.objects.filter(code="NEW").exists()


def test_session_write_with_csrf_token_is_accepted(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.administrator)
    client.cookies["csrftoken"] = CSRF_SECRET
    response = client.post(
        DEPARTMENTS, {"code": "NEW", "name": "New"}, format="json", HTTP_X_CSRFTOKEN=CSRF_SECRET
    )
    assert response.status_code == 201, response.content
    assert Department.objects.get(code="NEW").name == "New"


def test_token_write_needs_no_csrf_token(world, api):
    response = api.as_user(world.administrator).post(DEPARTMENTS, {"code": "NEW", "name": "New"})
    assert response.status_code == 201, response.content
    assert Department.objects.filter(code="NEW").exists()


# Pagination ----------------------------------------------------------------------------


@pytest.fixture
def many_departments(world):
    for n in range(60):
        DepartmentFactory(code=f"X{n:03d}")
    return Department.objects.count()  # 64


def test_list_is_paginated_with_count_next_previous(many_departments, api, world):
    client = api.as_user(world.analyst)
    first = client.get(DEPARTMENTS).json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == many_departments
    assert len(first["results"]) == 50  # PAGE_SIZE
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert len(second["results"]) == many_departments - 50
    assert second["next"] is None
    codes = [d["code"] for d in first["results"] + second["results"]]
    assert codes == sorted(Department.objects.values_list("code", flat=True))


@pytest.mark.parametrize("size", ["1", "7", str(MAX_PAGE_SIZE)])
def test_page_size_up_to_the_maximum(many_departments, api, world, size):
    body = api.as_user(world.analyst).get(DEPARTMENTS, {"page_size": size}).json()
    assert len(body["results"]) == min(int(size), many_departments)


@pytest.mark.parametrize(
    "size", [str(MAX_PAGE_SIZE + 1), "100000", "0", "-1", "abc", "", "1.5", " 5", "9" * 30]
)
def test_bad_page_size_is_400_with_a_field_message(world, api, size):
    response = api.as_user(world.analyst).get(DEPARTMENTS, {"page_size": size})
    assert response.status_code == 400
    assert response.json() == {"page_size": [PAGE_SIZE_INVALID]}


@pytest.mark.parametrize("page", ["abc", "0", "-1", "", "1e3", "\x00"])
def test_bad_page_number_is_400(world, api, page):
    response = api.as_user(world.analyst).get(DEPARTMENTS, {"page": page})
    assert response.status_code == 400
    assert response.json() == {"page": [PAGE_INVALID]}


def test_page_past_the_end_is_404_with_detail(world, api):
    response = api.as_user(world.analyst).get(DEPARTMENTS, {"page": "99"})
    assert response.status_code == 404
    assert response.json()["detail"]


def test_last_page(many_departments, world, api):
    body = api.as_user(world.analyst).get(DEPARTMENTS, {"page": "last"}).json()
    assert len(body["results"]) == many_departments - 50


# CSV -------------------------------------------------------------------------------


def read_csv(response) -> list[dict[str, str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.getvalue().decode())))


def test_csv_is_the_whole_list_not_a_page(many_departments, world, api):
    response = api.as_user(world.analyst).get(DEPARTMENTS, {"format": "csv", "page_size": "5"})
    assert response.status_code == 200
    rows = read_csv(response)
    assert len(rows) == many_departments
    assert list(rows[0]) == ["code", "name", "is_main", "deputy_minister", "active"]


@pytest.mark.parametrize(("name", "value"), [("page", "-5"), ("page_size", "100000")])
def test_csv_refuses_the_page_parameters_json_refuses(world, api, name, value):
    response = api.as_user(world.analyst).get(DEPARTMENTS, {"format": "csv", name: value})
    assert response.status_code == 400
    assert name in response.json()


def test_csv_errors_are_json(world, api):
    response = api.as_user(world.analyst).get(DEPARTMENTS, {"format": "csv", "is_main": "maybe"})
    # A bad filter is an error in JSON even when CSV was asked for.
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "is_main" in response.json()


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(world, api):
    DepartmentFactory(code="EVIL", name="=HYPERLINK(1)")
    rows = read_csv(api.as_user(world.analyst).get(DEPARTMENTS, {"format": "csv"}))
    assert {r["code"]: r["name"] for r in rows}["EVIL"] == "'=HYPERLINK(1)"


def test_csv_of_one_record(world, api):
    rows = read_csv(api.as_user(world.analyst).get(f"{DEPARTMENTS}LCS/", {"format": "csv"}))
    assert rows == [
        {
            "code": "LCS",
            "name": "Labour and Citizens' Services",
            "is_main": "True",
            "deputy_minister": "dm_lcs",
            "active": "True",
        }
    ]


def test_unknown_format_is_404(world, api):
    response = api.as_user(world.analyst).get(DEPARTMENTS, {"format": "xml"})
    assert response.status_code == 404
    assert response.json()["detail"]


# Errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nothing-here/",
        "/api/v1/departments/lower-case/",
        "/api/v1/departments/%00/",
        "/api/v1/services/%0A%1A3/",
        "/api/v1/departments/LCS%0A/",
        "/api/v1/departments/LCS/extra/",
        "/api/v1/memberships/not-a-number/",
        "/api/v1/memberships/99999999999999999999999/",
        "/api/v1/standards/-1/",
    ],
)
def test_unknown_api_urls_are_json_404(world, api, path):
    response = api.as_user(world.analyst).get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_unsupported_method_is_405_not_403(world, api):
    # Permission checks run first in DRF; a method no route has must still say so.
    for user in (world.administrator, world.analyst):
        response = api.as_user(user).put(DEPARTMENTS, {})
        assert response.status_code == 405, (user, response.content)
    response = api.as_user(world.administrator).generic("TRACE", f"{DEPARTMENTS}LCS/")
    assert response.status_code == 405


def test_malformed_json_body_is_400(world, api):
    client = api.as_user(world.administrator)
    response = client.post(DEPARTMENTS, data='{"code": "X",', content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert not Department.objects.filter(code="X").exists()


def test_form_bodies_are_not_accepted(world, api):
    client = api.as_user(world.administrator)
    response = client.post(DEPARTMENTS, {"code": "X", "name": "X"}, format="multipart")
    assert response.status_code == 415
    assert not Department.objects.filter(code="X").exists()


def test_a_database_conflict_that_slips_past_the_services_is_409_not_500():
    from django.db import IntegrityError

    from sharedsvc.api.exceptions import exception_handler
    from sharedsvc.errors import CONFLICT_GENERIC

    response = exception_handler(IntegrityError("duplicate key"), {"view": None})
    assert response.status_code == 409
    assert response.data == {"detail": CONFLICT_GENERIC}


# Schema and docs ---------------------------------------------------------------------


def test_schema_answers_and_names_the_token_scheme(db, client):
    client.force_login(UserFactory(username="schema_reader", role="analyst"))
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'Token-based authentication with required prefix "Token"',
    }
    listing = schema["paths"]["/api/v1/departments/"]["get"]
    page_size = next(p for p in listing["parameters"] if p["name"] == "page_size")
    assert page_size["schema"]["maximum"] == MAX_PAGE_SIZE
    assert listing["responses"]["200"]["content"]["text/csv"]["schema"]["type"] == "string"
    assert set(listing["responses"]) >= {"200", "400", "401", "403"}
    delete = schema["paths"]["/api/v1/departments/{code}/"]["delete"]
    assert "409" in delete["responses"]


def test_docs_use_only_local_static_files(db, client, plain_static):
    client.force_login(UserFactory(username="docs_reader", role="analyst"))
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, "the docs page should load its scripts and styles"
    # Static files, and the page's own start-up script (a second request, for the CSP).
    assert all(url.startswith(("/static/", "/api/v1/docs/?")) for url in urls), urls
    assert "//" not in "".join(urls)
    assert not re.search(r"https?://", html.replace("http://www.w3.org", "")), "no CDN"
    for url in urls:
        static = client.get(url)
        assert static.status_code == 200, url
        body = b"".join(static.streaming_content) if static.streaming else static.content
        assert len(body) > 100, url

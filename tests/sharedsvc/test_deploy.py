"""Production settings: with DEBUG off, `check --deploy` is clean, https, HSTS and secure
cookies are on by default and each can be switched from the environment, a SECRET_KEY is
required; every answer has a Content-Security-Policy without 'unsafe-inline'; the schema
and its docs are for signed-in users.

The settings are read once a process, so those about the environment run the real
`manage.py` in a process of its own with the environment given.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from sharedsvc.settings import SECRET_KEY_REQUIRED

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")
# What pyproject.toml's pytest-env sets for the tests' plain-http server, and DEBUG.
TEST_ONLY = {
    "SECRET_KEY",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "WHITENOISE_AUTOREFRESH",
    "READINESS_PING_SECONDS",
}
TEMPLATES = Path(settings.BASE_DIR) / "templates"

PRINTED = (
    "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
)  # fmt: skip


def print_settings(names: tuple[str, ...] = PRINTED) -> str:
    """A script printing these settings as JSON."""
    return f"""
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({{name: getattr(s, name) for name in {names!r}}}))
"""


def production_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY | {"DEBUG"}}
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "sharedsvc.example.gov",
            "DJANGO_SETTINGS_MODULE": "sharedsvc.settings",
        }
    )
    env.update(overrides)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (our own manage.py, with an environment we made)
        args, env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120
    )


def settings_under(env: dict[str, str], names: tuple[str, ...] = PRINTED) -> dict:
    result = run([sys.executable, "-c", print_settings(names)], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_check_deploy_prints_no_warning():
    result = run([sys.executable, MANAGE, "check", "--deploy"], production_env())
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNING" not in output and "security.W" not in output


def test_https_hsts_and_secure_cookies_are_on_by_default_and_each_can_be_switched_off():
    on = settings_under(production_env())
    assert on["DEBUG"] is False
    assert on["SECURE_SSL_REDIRECT"] is True
    assert on["SECURE_HSTS_SECONDS"] == 31536000
    assert on["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert on["SECURE_HSTS_PRELOAD"] is True
    assert on["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert on["SESSION_COOKIE_SECURE"] is True
    assert on["CSRF_COOKIE_SECURE"] is True

    off = settings_under(
        production_env(
            SECURE_SSL_REDIRECT="0",
            SECURE_HSTS_SECONDS="0",
            SECURE_HSTS_INCLUDE_SUBDOMAINS="0",
            SECURE_HSTS_PRELOAD="0",
            SECURE_PROXY_SSL_HEADER="0",
            SESSION_COOKIE_SECURE="0",
            CSRF_COOKIE_SECURE="0",
        )
    )
    switched = {**dict.fromkeys(off, False), "SECURE_HSTS_SECONDS": 0}
    assert off == {**switched, "SECURE_PROXY_SSL_HEADER": None}


def test_the_tests_speed_ups_are_not_production_defaults():
    names = ("WHITENOISE_AUTOREFRESH", "READINESS_PING_SECONDS")
    production = settings_under(production_env(), names)
    assert production["WHITENOISE_AUTOREFRESH"] is False  # files listed once, at start
    assert production["READINESS_PING_SECONDS"] == 1.0
    assert settings.WHITENOISE_AUTOREFRESH is True  # this process: pyproject.toml's
    assert settings.READINESS_PING_SECONDS == 0.1


def test_the_database_does_not_jit_compile_queries(db):
    """Set on the connection (settings.DATABASES): the audit trail's query over every event
    table spent 0.68 s of its 0.69 s compiling 1,086 functions to read 29 rows."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


def test_a_missing_secret_key_with_debug_off_stops_the_start_with_the_reason():
    env = production_env()
    del env["SECRET_KEY"]
    result = run([sys.executable, MANAGE, "check"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert SECRET_KEY_REQUIRED in result.stderr
    # Said as it is, not hidden behind the error of a command run without its settings.
    assert "AppRegistryNotReady" not in result.stderr


def test_makemigrations_runs_without_a_secret_key():
    """It signs, serves and stores nothing: a fresh shell or a hook may check the
    migrations without the server's key (manage.py's OFFLINE_COMMANDS)."""
    env = production_env()
    del env["SECRET_KEY"]
    result = run([sys.executable, MANAGE, "makemigrations", "--check", "--dry-run"], env)
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_with_debug_on_a_key_of_the_checkout_serves_without_configuration():
    env = production_env(DEBUG="1")
    del env["SECRET_KEY"]
    result = run([sys.executable, "-c", print_settings()], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["DEBUG"] is True


def csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/departments/", "/healthz"])
def test_every_answer_has_a_strict_content_security_policy(db, path):
    response = Client().get(path)
    policy = csp(response)
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"][0] == "'self'"
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_inline_block_runs_only_with_the_nonce_of_its_answer(world):
    client = Client()
    client.force_login(world.analyst)
    first = client.get("/api/v1/docs/")
    second = client.get("/api/v1/docs/")
    assert first.status_code == second.status_code == 200
    nonces = []
    for response in (first, second):
        nonce = re.search(r'<style nonce="([^"]+)">', response.content.decode()).group(1)
        assert f"'nonce-{nonce}'" in csp(response)["style-src"]
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    # Its start-up script is a file of its own, not inline.
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in script.content.decode()


def test_no_template_of_ours_has_an_inline_script_or_style_attribute():
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and "nonce=" not in tag and "application/json" not in tag:
                offenders.append(f"{template.relative_to(TEMPLATES)}: {tag}")
        for tag in re.findall(r"<style\b[^>]*>", text):
            if "nonce=" not in tag:
                offenders.append(f"{template.relative_to(TEMPLATES)}: {tag}")
        offenders += [
            f"{template.relative_to(TEMPLATES)}: style attribute"
            for _ in re.findall(r"\sstyle=\"", text)
        ]
        offenders += [
            f"{template.relative_to(TEMPLATES)}: event handler attribute"
            for _ in re.findall(r"\son[a-z]+=\"", text)
        ]
    assert offenders == []


def test_the_schema_is_for_signed_in_users(world, api):
    anonymous = Client().get("/api/v1/schema/")
    assert anonymous.status_code == 401
    assert anonymous["Content-Type"].startswith("application/json")
    assert anonymous.json() == {"detail": "Authentication credentials were not provided."}
    signed_in = api.as_user(world.analyst).get("/api/v1/schema/")
    assert signed_in.status_code == 200
    assert signed_in.json()["info"]["title"] == "sharedsvc API"
    assert "openapi: 3" in api.get("/api/v1/schema/", {"format": "yaml"}).content.decode()


def test_the_docs_send_a_signed_out_person_to_sign_in_and_back(world):
    response = Client().get("/api/v1/docs/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/api/v1/docs/"
    assert Client().get("/api/v1/docs/?script=").status_code == 302

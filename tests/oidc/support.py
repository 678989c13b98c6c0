"""A real OpenID provider for the single sign-on tests: the npm package oidc-provider, run
by `tests/oidc/provider.mjs` on 127.0.0.1 with a signing key the test makes, so that a
test can also sign ID tokens of its own with the provider's key.

`running_provider(...)` starts it and stops it (a module- or session-scoped fixture holds
it); `sign_in_at_provider(...)` walks a person through its login page with `requests`, as
a browser would, up to the redirect back to the service.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.cache import cache
from jwt.algorithms import RSAAlgorithm

from sharedsvc.sso import discovery_cache_key
from tests.clock import subprocess_env

SCRIPT = Path(__file__).resolve().parent / "provider.mjs"
NODE = shutil.which("node") or "/usr/bin/node"
READY_SECONDS = 30
KEY_ID = "sharedsvc-test-key"
CLIENT_ID = "sharedsvc-test"
CALLBACK_PATH = "/accounts/sso/callback/"
_FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


@dataclass
class TestProvider:
    """A running provider: its issuer, the client registered at it, and its private key."""

    issuer: str
    client_id: str
    client_secret: str
    private_key: rsa.RSAPrivateKey
    accounts: list[dict[str, Any]] = field(default_factory=list)

    def sign(self, claims: dict[str, Any]) -> str:
        """An ID token signed with the provider's own key (as the provider would sign it)."""
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": KEY_ID})

    def settings(self, settings, **extra: Any) -> None:
        """Point the service's single sign-on at this provider (pytest-django `settings`)."""
        settings.OIDC_ISSUER = self.issuer
        settings.OIDC_RP_CLIENT_ID = self.client_id
        settings.OIDC_RP_CLIENT_SECRET = self.client_secret
        settings.OIDC_PROVIDER_NAME = "Sign in with the test provider"
        for name, value in extra.items():
            setattr(settings, name, value)
        cache.delete(discovery_cache_key(self.issuer))


def _private_jwk(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
    jwk.update(kid=KEY_ID, alg="RS256", use="sig")
    return jwk


@contextmanager
def running_provider(
    *, redirect_uris: list[str], accounts: list[dict[str, Any]]
) -> Iterator[TestProvider]:
    """Start the provider with one confidential client and these accounts; stop it after."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    secret = secrets.token_urlsafe(24)
    config = {
        "client": {
            "client_id": CLIENT_ID,
            "client_secret": secret,
            "redirect_uris": redirect_uris,
        },
        "jwk": _private_jwk(key),
        "accounts": accounts,
    }
    with tempfile.TemporaryDirectory() as folder:
        config_path = Path(folder) / "provider.json"
        config_path.write_text(json.dumps(config))
        log_path = Path(folder) / "provider.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(  # noqa: S603 (our own script, fixed arguments)
                [NODE, str(SCRIPT), str(config_path)],
                cwd=SCRIPT.parent.parent.parent,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=subprocess_env({**os.environ, "NODE_ENV": "test"}),
            )
            try:
                issuer = _wait_until_ready(process, log_path)
                yield TestProvider(issuer, CLIENT_ID, secret, key, accounts)
            finally:
                assert process.stdin is not None
                process.stdin.close()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait_until_ready(process: subprocess.Popen, log_path: Path) -> str:
    """Poll the provider's standard output for its one line, which it prints once it
    listens."""
    assert process.stdout is not None
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], deadline - time.monotonic())
        if ready:
            line = process.stdout.readline()
            if line:
                return json.loads(line)["issuer"]
            break
    process.kill()
    raise RuntimeError(f"the OpenID provider did not start: {log_path.read_text()[-2000:]}")


@dataclass
class ProviderVisit:
    """What a person's browser saw at the provider: the authorization request the service
    sent them with, and where the provider sent them back."""

    authorization: dict[str, str]
    callback: str

    @property
    def callback_path(self) -> str:
        parts = urlsplit(self.callback)
        return f"{parts.path}?{parts.query}"


def sign_in_at_provider(authorization_url: str, login: str) -> ProviderVisit:
    """Follow the service's redirect to the provider, sign in on its login page as `login`,
    and stop at the provider's redirect back to the service (not followed)."""
    browser = requests.Session()
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorization_url).query).items()}
    # The provider sends the browser on to its login page.
    response = browser.get(authorization_url, timeout=10)
    assert response.status_code == 200, response.text
    action = _FORM_ACTION.search(response.text)
    assert action is not None, response.text
    response = browser.post(
        urljoin(response.url, action.group(1)),
        data={"login": login},
        allow_redirects=False,
        timeout=10,
    )
    # Back to the authorization endpoint, which answers with the redirect to the service.
    while response.status_code in (302, 303):
        location = urljoin(response.url, response.headers["Location"])
        if CALLBACK_PATH in urlsplit(location).path:
            return ProviderVisit(authorization=query, callback=location)
        response = browser.get(location, allow_redirects=False, timeout=10)
    raise AssertionError(f"the provider did not send the browser back: {response.text[:500]}")

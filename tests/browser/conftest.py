"""Browser tests: Playwright for Python drives the machine's Chromium against pytest-django's
live server, and axe-core scans every page the browser loads.

Use the `site` fixture. `site.goto(path)`, `site.follow(locator)` and `site.submit(locator)`
navigate and then scan the new page; `site.page` is the Playwright page for reading it.
A page loaded any other way (a raw `page.click`, a redirect you did not wait for) still
counts: the test fails at teardown if any loaded page was never scanned, so a page cannot
be visited without an accessibility check. Any WCAG 2.0/2.1 A or AA violation fails the
test, as does a stylesheet, script or image that did not load. Only the live server's own
pages count: another site's (the test OpenID provider's sign-in page) is neither counted
nor scanned.

Build the assets first (`npm run build`): the tests fail, not skip, without them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Locator, Page, sync_playwright

from sharedsvc.models import User
from tests.signing_in import app_code, code_for_secret

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_JS = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
BUILT_CSS = Path(settings.BASE_DIR) / "static" / "build" / "app.css"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Requests whose failure means the page did not render as designed.
ASSET_TYPES = {"stylesheet", "script", "image", "font"}

# Runs axe once per document: a document already scanned answers null, so scanning the
# same page twice cannot stand in for scanning a page that was never checked.
_AXE_RUN = """
async (tags) => {
  if (window.__sharedsvcAxeScanned) { return null; }
  window.__sharedsvcAxeScanned = true;
  const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return results.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map(n => n.target.join(' ')),
  }));
}
"""


class AccessibilityViolation(AssertionError):
    pass


def axe_check(page: Page) -> bool:
    """Scan the page's current document with axe-core (WCAG 2.0/2.1 A and AA) and fail on
    any violation. Returns False when this document had already been scanned."""
    page.wait_for_load_state("load")
    # axe comes in as an init script of the context (see `site`): a <script> tag added to the
    # page would be refused by the Content-Security-Policy, as it should be.
    assert page.evaluate("() => typeof window.axe !== 'undefined'"), "axe-core is not loaded"
    violations = page.evaluate(_AXE_RUN, WCAG_TAGS)
    if violations is None:
        return False
    if violations:
        lines = [f"axe-core found {len(violations)} accessibility violation(s) on {page.url}:"]
        for v in violations:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
            lines.extend(f"    at {target}" for target in v["targets"])
        raise AccessibilityViolation("\n".join(lines))
    return True


@dataclass
class Site:
    """A browser tab on the live server that scans every page it loads."""

    page: Page
    base_url: str
    loaded: list[str] = field(default_factory=list)
    scanned: list[str] = field(default_factory=list)
    broken_assets: list[str] = field(default_factory=list)

    csp_violations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("load", self._on_load)
        self.page.on("response", self._on_response)
        self.page.on("console", self._on_console)

    def _on_console(self, message) -> None:
        # Chromium reports each thing the Content-Security-Policy refused on the console.
        if "Content Security Policy" in message.text:
            self.csp_violations.append(f"{self.page.url}: {message.text}")

    def _ours(self, url: str) -> bool:
        return url.startswith(self.base_url.rstrip("/") + "/")

    def _on_load(self, page: Page) -> None:
        if self._ours(page.url):
            self.loaded.append(page.url)

    def _on_response(self, response) -> None:
        if response.status >= 400 and response.request.resource_type in ASSET_TYPES:
            self.broken_assets.append(f"{response.status} {response.url}")

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def axe_check(self) -> None:
        """Scan the current page (each document is counted once; not another site's)."""
        if self._ours(self.page.url) and axe_check(self.page):
            self.scanned.append(self.page.url)

    def goto(self, path: str):
        response = self.page.goto(self.url(path))
        self.axe_check()
        return response

    def follow(self, link: Locator) -> None:
        """Click a link (or any control that loads a new page) and scan the new page."""
        with self.page.expect_navigation():
            link.click()
        self.axe_check()

    submit = follow

    def finish(self) -> None:
        # A round trip, so that every event the browser sent has been delivered.
        self.page.evaluate("() => 1")
        problems = []
        if len(self.scanned) != len(self.loaded):
            problems.append(
                f"{len(self.loaded)} page(s) loaded but {len(self.scanned)} scanned by axe-core; "
                f"loaded: {self.loaded}; scanned: {self.scanned}. Navigate with site.goto/"
                "site.follow, or call site.axe_check() after each new page."
            )
        if self.broken_assets:
            problems.append(f"assets that did not load: {self.broken_assets}")
        if self.csp_violations:
            problems.append(f"refused by the Content-Security-Policy: {self.csp_violations}")
        assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    for needed, how in ((BUILT_CSS, "npm run build"), (AXE_JS, "npm ci")):
        if not needed.exists():
            pytest.fail(f"{needed} is missing: run `{how}` first.")
    # Playwright's sync API runs an asyncio loop in this thread for as long as it lives;
    # Django's database calls from the test (fixtures, flushes) are still synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def site(browser: Browser, live_server, transactional_db) -> Iterator[Site]:
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    # Before any script of the page, through the DevTools protocol, which the page's CSP
    # does not govern (a script tag of ours would be refused like anyone's).
    context.add_init_script(path=str(AXE_JS))
    page = context.new_page()
    page.set_default_timeout(15_000)
    tab = Site(page=page, base_url=live_server.url)
    try:
        yield tab
        tab.finish()
    finally:
        context.close()


def sign_in(site: Site, username: str, password: str) -> None:
    """Sign in through the login form, as a person would; and through the second step
    when it asks for one: the app's code, or (an administrator without one) setting it up
    from the secret on the page (tests/browser/test_two_factor.py does that by keyboard)."""
    site.goto("/accounts/login/")
    site.page.get_by_label("Username").fill(username)
    site.page.get_by_label("Password").fill(password)
    site.submit(site.page.get_by_role("button", name="Sign in"))
    path = urlsplit(site.page.url).path
    if path == "/accounts/login/set-up-two-factor/":
        secret = site.page.get_by_test_id("two-factor-secret").inner_text()
        site.page.get_by_label("Code from your authenticator app").fill(code_for_secret(secret))
        site.submit(site.page.get_by_role("button", name="Turn on two-factor authentication"))
        site.follow(site.page.get_by_role("button", name="I have saved them: continue"))
    elif path == "/accounts/login/code/":
        code = app_code(User.objects.get(username=username))
        site.page.get_by_label("Code from your authenticator app").fill(code)
        site.submit(site.page.get_by_role("button", name="Sign in"))

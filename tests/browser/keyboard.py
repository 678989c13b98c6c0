"""Driving the site with the keyboard alone, and checking that a person can see where
they are: the helpers of tests/browser/test_keyboard.py.

Only `page.keyboard` moves the focus or acts (Tab, Shift+Tab, arrows, Enter, Space and
typing); nothing here clicks, fills or calls `focus()`. After each move the focused
element (`document.activeElement`) is checked to be the one expected, to be inside the
viewport, and to show a focus indicator: GOV.UK Frontend's yellow (#ffdd00) as a background,
an outline or a box-shadow, or any other outline that is drawn (not `none`, not 0px, not
transparent), on the element or, for a radio or checkbox (whose input is invisible), on its
label's `::before`. Where the element was seen unfocused first, its look must also change.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import FilePayload, Locator, Page

from sharedsvc.models import User
from tests.browser.conftest import Site
from tests.signing_in import app_code, code_for_secret

# GOV.UK Frontend's $govuk-focus-colour, as getComputedStyle writes it.
FOCUS_COLOUR = "rgb(255, 221, 0)"
# Enough for the longest page of the journeys; a control further away is as good as lost.
MAX_PRESSES = 60

# What the focused element (or a given one) looks like: the styles a focus indicator is
# drawn with, on the element and, for a radio or checkbox, on its label's pseudo-elements.
_LOOK = """
(el) => {
  el = el || document.activeElement;
  const parts = [[el, null]];
  if (el.matches('input[type=radio], input[type=checkbox]') && el.labels && el.labels[0]) {
    parts.push([el.labels[0], '::before'], [el.labels[0], '::after']);
  }
  return parts.map(([node, pseudo]) => {
    const s = getComputedStyle(node, pseudo);
    return {
      part: pseudo ? 'label' + pseudo : el.tagName.toLowerCase(),
      opacity: s.opacity,
      visibility: s.visibility,
      outlineStyle: s.outlineStyle,
      outlineWidth: s.outlineWidth,
      outlineColor: s.outlineColor,
      boxShadow: s.boxShadow,
      backgroundColor: s.backgroundColor,
      borderColor: s.borderColor,
      borderWidth: s.borderWidth,
      color: s.color,
    };
  });
}
"""

_FOCUSED = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) {
    return null;
  }
  const r = el.getBoundingClientRect();
  return {
    description: el.tagName.toLowerCase()
      + (el.id ? '#' + el.id : '')
      + (el.getAttribute('name') ? '[name=' + el.getAttribute('name') + ']' : '')
      + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
      + ' "' + (el.innerText || el.value || '').trim().slice(0, 60) + '"',
    rect: {top: r.top, left: r.left, bottom: r.bottom, right: r.right,
           width: r.width, height: r.height},
    viewport: {width: window.innerWidth, height: window.innerHeight},
  };
}
"""

_IS_FOCUSED = "(el) => el === document.activeElement"


def _transparent(colour: str) -> bool:
    # rgba(r, g, b, 0): an alpha of nought; rgb(255, 221, 0) has none.
    return colour == "transparent" or (
        colour.startswith("rgba(") and float(colour[5:-1].split(",")[3]) == 0
    )


def _indicators(look: list[dict[str, Any]]) -> list[str]:
    """What in `look` shows the focus (an invisible part, such as a radio's input, shows
    nothing whatever its outline)."""
    shown = []
    for part in look:
        if float(part["opacity"]) == 0 or part["visibility"] != "visible":
            continue
        name = part["part"]
        if (
            part["outlineStyle"] != "none"
            and float(part["outlineWidth"].removesuffix("px") or 0) > 0
            and not _transparent(part["outlineColor"])
        ):
            shown.append(f"{name} outline {part['outlineWidth']} {part['outlineColor']}")
        if FOCUS_COLOUR in part["boxShadow"]:
            shown.append(f"{name} box-shadow {part['boxShadow']}")
        if part["backgroundColor"] == FOCUS_COLOUR:
            shown.append(f"{name} background {FOCUS_COLOUR}")
    return shown


def focused(page: Page) -> str:
    """The focused element, in words (for messages)."""
    info = page.evaluate(_FOCUSED)
    return "nothing (the document)" if info is None else info["description"]


def look_of(target: Locator) -> list[dict[str, Any]]:
    """How `target` looks now (before it has the focus, to compare with after)."""
    return target.evaluate(_LOOK)


def assert_visible_focus(page: Page, unfocused: list[dict[str, Any]] | None = None) -> None:
    """The focused element shows a focus indicator and is inside the viewport; if its
    look without the focus is given, the focus changes it."""
    info = page.evaluate(_FOCUSED)
    assert info is not None, "nothing has the focus"
    look = page.evaluate(_LOOK, None)
    shown = _indicators(look)
    assert shown, f"{info['description']} has the focus but shows no focus indicator: {look}"
    if unfocused is not None:
        assert look != unfocused, f"{info['description']} looks the same with the focus: {look}"
    rect, viewport = info["rect"], info["viewport"]
    assert rect["width"] > 0 and rect["height"] > 0, f"{info['description']} has no size"
    # A pixel of slack for subpixel layout.
    inside = (
        rect["top"] >= -1
        and rect["left"] >= -1
        and rect["bottom"] <= viewport["height"] + 1
        and rect["right"] <= viewport["width"] + 1
    )
    assert inside, f"{info['description']} has the focus outside the viewport: {rect}"


def assert_focused(page: Page, target: Locator, unfocused: list[dict] | None = None) -> None:
    """`target` has the focus, and shows it."""
    assert target.evaluate(_IS_FOCUSED), f"expected {target} to have the focus, not {focused(page)}"
    assert_visible_focus(page, unfocused)


def tab_to(page: Page, target: Locator, *, backwards: bool = False, limit: int = MAX_PRESSES):
    """Press Tab (Shift+Tab backwards) until `target` (a locator by role and accessible
    name, for one element) has the focus; each stop on the way must show its focus too.
    Fails after `limit` presses."""
    element = target.element_handle()
    unfocused = None if page.evaluate(_IS_FOCUSED, element) else page.evaluate(_LOOK, element)
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate(_IS_FOCUSED, element):
            assert_visible_focus(page, unfocused)
            return
        assert_visible_focus(page)
    raise AssertionError(
        f"{target} cannot be reached with {limit} presses of {key}; the focus is on {focused(page)}"
    )


def arrow_to(page: Page, target: Locator, *, key: str = "ArrowDown", limit: int = 10) -> None:
    """Press an arrow key until `target` has the focus: within a group of radios, where
    Tab stops once and the arrows move (and choose)."""
    element = target.element_handle()
    for _ in range(limit):
        page.keyboard.press(key)
        assert_visible_focus(page)
        if page.evaluate(_IS_FOCUSED, element):
            return
    raise AssertionError(f"{target} cannot be reached with {key}; the focus is on {focused(page)}")


def tab_into(page: Page, group: Locator, *, limit: int = MAX_PRESSES) -> None:
    """Press Tab until the focus is inside `group` (a fieldset of radios: Tab stops on its
    chosen radio, or the first when none is chosen)."""
    element = group.element_handle()
    for _ in range(limit):
        page.keyboard.press("Tab")
        assert_visible_focus(page)
        if page.evaluate("(el) => el.contains(document.activeElement)", element):
            return
    raise AssertionError(f"{group} cannot be reached with Tab; the focus is on {focused(page)}")


def choose_radio(page: Page, group: Locator, name: str) -> None:
    """Tab into the radios of `group` and choose the one called `name`: Space on the radio
    Tab stopped at, or the arrows, which move and choose at once."""
    tab_into(page, group)
    radio = group.get_by_role("radio", name=name, exact=True)
    if radio.evaluate(_IS_FOCUSED):
        press(page, "Space", then_focused=radio)
    else:
        arrow_to(page, radio, limit=group.get_by_role("radio").count())
    assert radio.is_checked(), f"{name} is not chosen"


def choose_option(page: Page, select: Locator, label: str, *, limit: int = 20) -> None:
    """With the focus on `select`, press the down arrow until the option `label` is
    selected (the list does not open: the arrows change a closed select)."""
    assert_focused(page, select)
    for _ in range(limit):
        if select.evaluate("(el) => el.options[el.selectedIndex].label") == label:
            return
        press(page, "ArrowDown", then_focused=select)
    raise AssertionError(f"{select} has no option {label!r} below the one selected")


def press(page: Page, key: str, then_focused: Locator | None = None) -> None:
    """Press `key` where the focus is (no page loads); the focus is then on `then_focused`
    (by default, where it was) and visible."""
    page.keyboard.press(key)
    if then_focused is not None:
        assert_focused(page, then_focused)
    else:
        assert_visible_focus(page)


def type_text(page: Page, text: str, *, replace: bool = False) -> None:
    """Type into the focused field, over what it holds if `replace` (Ctrl+A selects it)."""
    if replace:
        page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(text)
    assert_visible_focus(page)


def activate_and_load(site: Site, key: str = "Enter") -> None:
    """Activate the focused link or button with `key` and wait for the new page, which is
    scanned by axe-core like every page (see conftest)."""
    assert_visible_focus(site.page)
    with site.page.expect_navigation():
        site.page.keyboard.press(key)
    site.axe_check()


def choose_file(page: Page, file: FilePayload, key: str = "Space") -> None:
    """Open the focused file input's chooser with `key` and answer it with `file`; the focus
    stays on the input."""
    assert page.evaluate("() => document.activeElement.type") == "file", focused(page)
    with page.expect_file_chooser() as chooser:
        page.keyboard.press(key)
    chooser.value.set_files(file)
    assert_visible_focus(page)


def assert_error_summary_focused(page: Page, message: str) -> Locator:
    """GOV.UK's error summary took the focus when the page loaded (its ErrorSummary
    module), shows it, and says `message`; the page's title starts with "Error: "."""
    summary = page.locator(".govuk-error-summary")
    assert summary.evaluate(
        "(el) => el === document.activeElement"
        " || document.activeElement === el.querySelector('.govuk-error-summary__title')"
    ), f"the error summary does not have the focus: {focused(page)}"
    assert_visible_focus(page)
    assert message in summary.inner_text(), summary.inner_text()
    assert page.title().startswith("Error: "), page.title()
    return summary


def follow_error_link(page: Page, message: str, field: Locator) -> None:
    """From the focused error summary, Tab to the link saying `message` and press Enter:
    the focus moves to `field` (GOV.UK's ErrorSummary, without loading a page)."""
    summary = page.locator(".govuk-error-summary")
    tab_to(page, summary.get_by_role("link", name=message, exact=True), limit=10)
    press(page, "Enter", then_focused=field)


def sign_in_by_keyboard(site: Site, user: User, password: str) -> None:
    """Sign in as a person at a keyboard: the username, the password and, for a user with
    two-factor authentication, the app's code (tests/signing_in.py), or, for one who must
    set it up first, the code of the key the page shows."""
    page = site.page
    site.goto("/accounts/login/")
    tab_to(page, page.get_by_role("textbox", name="Username"))
    type_text(page, user.get_username())
    tab_to(page, page.get_by_label("Password", exact=True), limit=1)
    type_text(page, password)
    tab_to(page, page.get_by_role("button", name="Sign in"), limit=1)
    activate_and_load(site)
    if page.url == site.url("/accounts/login/set-up-two-factor/"):
        # An administrator without two-factor yet sets it up from the key on the page, and
        # goes on once the recovery codes are shown.
        secret = page.get_by_test_id("two-factor-secret").inner_text()
        tab_to(page, page.get_by_role("textbox", name="Code from your authenticator app"))
        type_text(page, code_for_secret(secret))
        tab_to(page, page.get_by_role("button", name="Turn on two-factor authentication"))
        activate_and_load(site)
        tab_to(page, page.get_by_role("button", name="I have saved them: continue"))
        activate_and_load(site)
    elif page.url == site.url("/accounts/login/code/"):
        tab_to(page, page.get_by_role("textbox", name="Code from your authenticator app"))
        type_text(page, app_code(user))
        tab_to(page, page.get_by_role("button", name="Sign in"), limit=1)
        activate_and_load(site)
    assert page.url != site.url("/accounts/login/"), "still on the sign-in page"

"""Every URL route of the project, as normalised strings, for tests that must cover them all."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver

_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def _normalise(fragment: str) -> str:
    fragment = fragment.lstrip("^").rstrip("$")
    fragment = _GROUP.sub(r"<\1>", fragment)
    fragment = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", fragment)
    return fragment.replace("\\", "")


def all_routes(patterns=None, prefix: str = "") -> list[str]:
    """Routes like 'api/v1/departments/<code>/' (DRF's '.<format>' twins left out)."""
    routes: list[str] = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        fragment = _normalise(str(entry.pattern))
        if isinstance(entry, URLResolver):
            routes.extend(all_routes(entry.url_patterns, prefix + fragment))
        elif isinstance(entry, URLPattern):
            route = prefix + fragment
            if "<format>" not in route:
                routes.append(route)
    return sorted(set(routes))

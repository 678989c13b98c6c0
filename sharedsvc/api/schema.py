"""The OpenAPI schema, made to say what the API really does (drf-spectacular).

- the knox token scheme (`Authorization: Token KEY`) for our TokenAuthentication subclass;
- `?format=csv` answers `text/csv` (a whole, unpaginated list), not JSON;
- the error answers of the contract: 400 with field messages, 401/403/404/409 with `detail`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent, build_bearer_security_scheme_object
from rest_framework import serializers

CSV_MEDIA_TYPE = "text/csv"
JSON_MEDIA_TYPE = "application/json"
TOKEN_PREFIX = "Token"  # noqa: S105 - the header word, not a secret

CSV_SCHEMA = {
    "type": "string",
    "description": "Comma-separated values with a header row; a list comes whole, unpaginated.",
}


class TokenScheme(KnoxTokenScheme):
    """Our knox subclass: `Authorization: Token KEY`."""

    target_class = "sharedsvc.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=TOKEN_PREFIX
        )


class ErrorSerializer(serializers.Serializer):
    """Why a request was refused (401, 403, 404, 409)."""

    detail = serializers.CharField()


# 400: messages by field name (`non_field_errors` for the request as a whole; `detail`
# when the body could not be read at all).
VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Messages by field name; nothing was saved.",
    "properties": {
        "detail": {"type": "string"},
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}

ERROR_DESCRIPTIONS = {
    "400": "Bad input: messages by field name; nothing was saved.",
    "401": "No or bad credentials (send `Authorization: Token KEY` or sign in).",
    "403": "Signed in, but your role may not do this.",
    "404": "No such record, not one you may see, a page past the end, or an unknown `format`.",
    "409": "Conflicts with the current state of things (e.g. still in use); nothing changed.",
}


class AutoSchema(SpectacularAutoSchema):
    """Adds the contract's error answers and the true shape of CSV answers."""

    def _get_response_for_code(
        self, serializer, status_code, media_types=None, direction="response"
    ):
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        content = response.get("content") or {}
        if CSV_MEDIA_TYPE in content:
            content[CSV_MEDIA_TYPE] = {"schema": dict(CSV_SCHEMA)}
        return response

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        # Gated fields (sharedsvc/api/gated.py) are null for readers who may not see them.
        result = super()._map_serializer(serializer, direction, bypass_extensions)
        meta = getattr(serializer, "Meta", None)
        if direction == "response" and meta is not None:
            properties = result.get("properties", {})
            for name in getattr(meta, "gated_fields", {}):
                prop = properties.get(name)
                if prop is None:
                    continue
                if "$ref" in prop:
                    properties[name] = {"allOf": [prop], "nullable": True}
                else:
                    prop["nullable"] = True
        return result

    def _get_filter_parameters(self):
        # django-filter reads an empty value (`?status=`) as "not filtered"; say so.
        parameters = super()._get_filter_parameters()
        for parameter in parameters:
            if parameter.get("in") == "query":
                parameter["allowEmptyValue"] = True
        return parameters

    def _get_format_parameters(self):
        parameters = super()._get_format_parameters()
        for parameter in parameters:
            parameter["allowEmptyValue"] = True
            parameter["description"] = (
                "`csv` for comma-separated values (a list comes whole, unpaginated); "
                "JSON otherwise."
            )
        return parameters

    def _resolve_path_parameters(self, variables):
        parameters = super()._resolve_path_parameters(variables)
        # A lookup restricted by the view (codes: `[A-Z0-9][A-Z0-9_-]{0,31}`) says so.
        regex = getattr(self.view, "lookup_value_regex", None)
        kwarg = getattr(self.view, "lookup_url_kwarg", None) or getattr(
            self.view, "lookup_field", None
        )
        for parameter in parameters:
            schema = parameter["schema"]
            if (
                regex
                and parameter["name"] == kwarg
                and schema.get("type") == "string"
                and regex != "[^/]+"
            ):
                schema.setdefault("pattern", f"^{regex}$")
        return parameters

    def error_codes(self) -> list[str]:
        codes = ["401", "403", "404"]
        if self.method in ("POST", "PUT", "PATCH") or (
            self.method == "GET" and self._is_list_view()
        ):
            codes.append("400")
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.append("409")
        return sorted(codes)

    def _validation_error_ref(self) -> dict[str, Any]:
        component = ResolvedComponent(
            name="ValidationError",
            type=ResolvedComponent.SCHEMA,
            schema=VALIDATION_ERROR_SCHEMA,
            object="ValidationError",
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _get_response_bodies(self, direction="response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in self.error_codes():
            if code in responses:
                continue
            body = self._validation_error_ref() if code == "400" else ErrorSerializer
            # Errors are always JSON, even for `?format=csv` (see api/exceptions.py).
            response = self._get_response_for_code(body, code, [JSON_MEDIA_TYPE], direction)
            response["description"] = ERROR_DESCRIPTIONS[code]
            responses[code] = response
        return responses

"""API token authentication: knox's hashed tokens, sent as `Authorization: Token KEY`."""

from knox.auth import TokenAuthentication as KnoxTokenAuthentication


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox tokens; the header prefix is `Token` (REST_KNOX['AUTH_HEADER_PREFIX'])."""

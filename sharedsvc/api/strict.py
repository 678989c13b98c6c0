"""Text fields take text: DRF's CharField would turn 123 into "123", which the schema
(type: string) says is refused. Installed once from SharedsvcConfig.ready()."""

from rest_framework import serializers

_original = serializers.CharField.to_internal_value


def _strict_to_internal_value(self, data):
    if not isinstance(data, str):
        self.fail("invalid")
    return _original(self, data)


def install() -> None:
    serializers.CharField.to_internal_value = _strict_to_internal_value  # type: ignore[method-assign]

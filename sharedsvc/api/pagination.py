"""Page-number pagination with `page_size` up to 1000; more is a 400, not a silent cap."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

MAX_PAGE_SIZE = 1000
PAGE_SIZE_INVALID = f"Give a whole number from 1 to {MAX_PAGE_SIZE}."
PAGE_INVALID = "Give a whole page number from 1 (or 'last')."


def _whole_number(raw: str) -> int | None:
    # int() alone would take " 5", "+5" and "5_0"; the query string wants plain digits.
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return None
    return int(raw)


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request) -> int | None:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = _whole_number(raw)
        if size is None or not 1 <= size <= MAX_PAGE_SIZE:
            raise ValidationError({self.page_size_query_param: [PAGE_SIZE_INVALID]})
        return size

    def validate_query(self, request) -> None:
        """400 for a `page` or `page_size` that is not a number in range.

        A page past the end stays DRF's 404 ("Invalid page."). Also called for CSV,
        which ignores both but must not accept what JSON refuses.
        """
        self.get_page_size(request)
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw not in self.last_page_strings:
            number = _whole_number(raw)
            if number is None or number < 1:
                raise ValidationError({self.page_query_param: [PAGE_INVALID]})

    def paginate_queryset(self, queryset, request, view=None):
        self.validate_query(request)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number from 1; past the last page is a 404.",
                "schema": {"type": "integer", "minimum": 1, "maximum": 999_999_999},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": (
                    f"Results per page, 1 to {MAX_PAGE_SIZE} (default {self.page_size}); "
                    "more is a 400."
                ),
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]

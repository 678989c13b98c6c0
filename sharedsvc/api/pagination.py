"""Page-number pagination with `page_size` up to 1000; more is a 400, not a silent cap."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

MAX_PAGE_SIZE = 1000
PAGE_SIZE_INVALID = f"Give a whole number from 1 to {MAX_PAGE_SIZE}."


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError({"page_size": [PAGE_SIZE_INVALID]}) from None
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValidationError({"page_size": [PAGE_SIZE_INVALID]})
        return size

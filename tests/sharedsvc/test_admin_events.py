"""The audit trail's admin list, read from the event tables themselves when it is the whole
trail (`sharedsvc.admin.EventsPaginator`): the same count and the same pages, in the same
order, as pghistory's events view gives."""

from __future__ import annotations

from django.core.paginator import Paginator
from pghistory import config

from sharedsvc.admin import EventsPaginator
from tests.factories import DepartmentFactory, MembershipFactory


def test_the_whole_trail_is_paged_as_the_view_pages_it(world):
    # Many events in one transaction share one time: the slug orders them.
    for n in range(30):
        MembershipFactory(department=DepartmentFactory(code=f"EV{n:02d}"), cluster=world.pay_psoa)
    trail = config.admin_queryset().order_by("-pgh_created_at", "-pk")
    fast, view = EventsPaginator(trail, 7), Paginator(trail, 7)
    assert fast._tables() is not None
    assert fast.count == view.count == trail.count() > 60
    for number in [1, 2, 5, fast.num_pages]:
        assert [e.pgh_slug for e in fast.page(number)] == [e.pgh_slug for e in view.page(number)], (
            number
        )


def test_a_filtered_trail_is_read_through_the_view(world):
    filtered = config.admin_queryset().filter(pgh_label="insert").order_by("-pgh_created_at", "-pk")
    paginator = EventsPaginator(filtered, 7)
    assert paginator._tables() is None
    assert paginator.count == filtered.count() > 0
    assert all(e.pgh_label == "insert" for e in paginator.page(1))

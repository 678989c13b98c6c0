"""The app's urls, and under /bench/ the baselines that the benchmarks compare it with."""

from django.urls import path

from bench.baselines import BareMemberships, ReportFloor
from web.urls import handler500  # noqa: F401
from web.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    path("bench/bare/memberships/", BareMemberships.as_view()),
    *app_urlpatterns,
    # After the app's urls: a request to it is routed past them, as a report's is.
    path("bench/bare/report-floor/", ReportFloor.as_view()),
]

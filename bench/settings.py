"""The app's settings with the benchmarks' baseline views beside its own urls."""

from sharedsvc.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

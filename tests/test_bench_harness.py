"""The benchmarks serve the app from a database of their own: the URL they give gunicorn
names that database on the same server, a socket directory (the embedded server of a fresh
clone, `make bench` without DATABASE_URL) or a host and port."""

from __future__ import annotations

import dj_database_url
import pytest

from bench.harness import url_of


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres:@/sharedsvc?host=/work/main/.data/postgres",
        "postgres://postgres@127.0.0.1:5432/sharedsvc",
        "postgres://bench:s%40cret@db.internal:6543/sharedsvc",
    ],
)
def test_the_served_url_names_the_benchmarks_database_on_the_same_server(url):
    settings = dj_database_url.parse(url)
    settings["NAME"] = "sharedsvc_bench_api"
    served = dj_database_url.parse(url_of(settings))
    where = ("USER", "PASSWORD", "HOST", "PORT")
    assert {key: served[key] for key in where} == {key: settings[key] for key in where}
    assert served.get("OPTIONS", {}) == settings.get("OPTIONS", {})
    assert served["NAME"] == "sharedsvc_bench_api"

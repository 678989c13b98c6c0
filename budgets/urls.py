"""Pages of the money side (built in issue 3)."""

from django.urls import path  # noqa: F401

app_name = "budgets"

urlpatterns: list = []

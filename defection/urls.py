"""Pages of the defection app."""

from django.urls import path  # noqa: F401

app_name = "defection"

urlpatterns: list = []

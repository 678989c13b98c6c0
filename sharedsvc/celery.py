"""The Celery app: broker from REDIS_URL, or kombu's filesystem transport without it."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharedsvc.settings")

app = Celery("sharedsvc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

"""The Celery app. Tasks are thin: ids in, one service call; see each app's tasks.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mola.settings")

app = Celery("mola")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

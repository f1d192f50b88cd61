"""The Celery application: the embedded default runs it on a SQLite broker, production on Redis or RabbitMQ."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.settings")

app = Celery("resonanz")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

"""The Celery application: the embedded default runs it on a SQLite broker, production on Redis or RabbitMQ."""

import os
import sys

from celery import Celery
from celery.signals import beat_init

from resonanz.core.processes import on_beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.settings")
if os.environ.get("RESONANZ_PROCESS", "").startswith("worker") or {"worker", "beat"} & set(sys.argv):
    os.umask(0o077)  # files the worker creates (attachments, the schedule) are readable only by its user

# The scheduler dies with its worker and refuses to be a second one on the same schedule file.
beat_init.connect(on_beat_init, weak=False)

app = Celery("resonanz")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

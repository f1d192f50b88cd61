"""The Celery application: the embedded default runs it on a SQLite broker, production on Redis or RabbitMQ."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.settings")
if os.environ.get("RESONANZ_PROCESS") == "worker" or "worker" in os.sys.argv or "beat" in os.sys.argv:
    os.umask(0o077)  # files the worker creates (attachments, the schedule) are readable only by its user

from celery.signals import beat_init  # noqa: E402

from resonanz.core.processes import on_beat_init  # noqa: E402

beat_init.connect(on_beat_init, weak=False)

app = Celery("resonanz")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

"""Settings for the test suite: the same as production, with RESONANZ_TEST_DATABASE_URL honoured."""

import os

from resonanz.settings import *  # noqa: F403
from resonanz.settings import DATABASES, database_config

if os.environ.get("RESONANZ_TEST_DATABASE_URL"):
    DATABASES["default"] = database_config(os.environ["RESONANZ_TEST_DATABASE_URL"])

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
ALLOWED_HOSTS = ["*"]

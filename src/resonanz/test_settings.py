"""Settings for the test suite: the same as production, with RESONANZ_TEST_DATABASE_URL honoured."""

import copy
import os
import tempfile

from resonanz.settings import *  # noqa: F403
from resonanz.settings import DATABASES, LOGGING, VAR_DIR, database_config

if os.environ.get("RESONANZ_TEST_DATABASE_URL"):
    DATABASES["default"] = database_config(os.environ["RESONANZ_TEST_DATABASE_URL"])

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory: browser tests start other processes that write to the test database.
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(VAR_DIR, f"test-{os.getpid()}.sqlite3")}

# Tests that need a trained model build one without embeddings in a temporary directory (tests/conftest.py).
RESONANZ_EMBEDDER = os.environ.get("RESONANZ_TEST_EMBEDDER", "none")
RESONANZ_MODEL_DIR = os.path.join(tempfile.gettempdir(), f"resonanz-test-models-{os.getpid()}")
MEDIA_ROOT = os.path.join(tempfile.gettempdir(), f"resonanz-test-media-{os.getpid()}")

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
ALLOWED_HOSTS = ["*"]

# The outbound guard is on as in production; the tests' local servers listen on 127.0.0.1, which is allowed
# here. Tests of the guard itself set RESONANZ_OUTBOUND_ALLOW to what they need (tests/core/test_outbound.py).
RESONANZ_OUTBOUND_ALLOW = ["127.0.0.1"]
# Log files of the test run stay out of var/logs.
RESONANZ_LOG_DIR = os.path.join(tempfile.gettempdir(), f"resonanz-test-logs-{os.getpid()}")
os.makedirs(RESONANZ_LOG_DIR, exist_ok=True)
LOGGING = copy.deepcopy(LOGGING)
LOGGING["handlers"]["file"]["filename"] = os.path.join(RESONANZ_LOG_DIR, "resonanz.log")
# Tests use short throwaway passwords ("pw-123456"); production asks for 10 characters by default.
AUTH_PASSWORD_VALIDATORS = copy.deepcopy(AUTH_PASSWORD_VALIDATORS)  # noqa: F405
AUTH_PASSWORD_VALIDATORS[1]["OPTIONS"]["min_length"] = 8

# Every test client posts from 127.0.0.1: the community's per-address write limit would trip across tests.
RESONANZ_RATE_LIMITS = {**RESONANZ_RATE_LIMITS, "community_writes": "0/600"}  # noqa: F405

# Test clients fill the contact form in no time; tests of the time check set it themselves.
RESONANZ_FORM_MIN_SECONDS = 0
RESONANZ_CHAT_MIN_SECONDS = 0

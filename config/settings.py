"""Settings, read from the environment (docs/operations.md "Settings").

With nothing set the registry runs embedded: SQLite under the data directory and Celery tasks
executed eagerly in-process. Production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY and
DEBUG=false. A bad value stops start-up with ImproperlyConfigured naming the variable, because a
registry that starts half-configured (say, on the wrong database) is worse than one that refuses.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (1/0, yes/no, on/off), not {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_log_level(name: str, default: str) -> str:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    level = raw.strip().upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ImproperlyConfigured(
            f"{name} must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {raw!r}"
        )
    return level


def env_database(name: str, default: str) -> dict:
    raw = os.environ.get(name) or default
    scheme = urlsplit(raw).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(f"{name} must be a sqlite:// or postgres:// URL, not {raw!r}")
    try:
        config = dj_database_url.parse(raw, conn_max_age=60)
    except Exception as exc:  # dj_database_url raises plain ValueError/KeyError variants
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from None
    if scheme != "sqlite" and not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} must name a database, e.g. postgres://host/registry")
    if scheme == "sqlite":
        if config.get("NAME") and config["NAME"] != ":memory:":
            Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # The embedded database serves a web server and in-process tasks at once: wait for the
        # write lock rather than fail with "database is locked".
        config["OPTIONS"] = {"timeout": 20}
        config["CONN_MAX_AGE"] = 0
    return config


def env_broker(name: str) -> str | None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    scheme = urlsplit(raw).scheme
    if scheme not in {"redis", "rediss", "amqp", "amqps", "pyamqp", "memory"}:
        raise ImproperlyConfigured(f"{name} must be a redis:// or amqp:// URL, not {raw!r}")
    return raw


DATA_DIR = Path(os.environ.get("REGISTRY_DATA_DIR") or BASE_DIR / "data")

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105 - never used without DEBUG
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])

INSTALLED_APPS = [
    "config.apps.RegistryAdminConfig",  # django.contrib.admin, with registry.admin_site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",  # failed logins and signature passwords, counted in the database (lockout)
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files for /api/docs/, served locally (no CDN)
    "registry",
    "crf",
    "scoring",
    "reports",
    "interchange",
    # The interface above every domain app: the HTTP API and the server-rendered pages.
    "api",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # No policy by default: the patients' invitation pages set a strict one (web/views/pro.py).
    "csp.middleware.CSPMiddleware",
    # Last: turns a request that has just locked an account or address out into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.context_processors.web",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{DATA_DIR / 'registry.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Password guessing (registry.security): django-axes counts failed logins and failed signature
# passwords in the database, so every web process sees the same counts. LOGIN_FAILURE_LIMIT
# failures for one username (from anywhere), or from one address (for any username), lock that
# username or address out of logging in and signing until LOGIN_LOCKOUT_SECONDS have passed
# since the last one, even with the right password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses while locked out
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60)
# Callables reading the two settings above when asked, so that they stay the settings to change.
AXES_FAILURE_LIMIT = "registry.security.failure_limit"
AXES_COOLOFF_TIME = "registry.security.cool_off"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# An attempt while locked out is refused unchecked and uncounted: it does not prolong the lockout.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "web.views.auth.lockout_response"
# The client's address is REMOTE_ADDR only, as for the API's throttling (api.throttling): a
# header such as X-Forwarded-For is whatever the client says unless a trusted proxy rewrites it.
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Sessions end after SESSION_IDLE_MINUTES without a request, and when the browser closes: shared
# clinic computers are common.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# The cache holds counters that every process must share (the API's failed-token throttling): a
# table of the database by default (registry's migrations create it), Redis when CACHE_URL is set.
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL:
    if urlsplit(CACHE_URL).scheme not in {"redis", "rediss"}:
        raise ImproperlyConfigured(f"CACHE_URL must be a redis:// URL, not {CACHE_URL!r}")
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "registry_cache",
            # Django culls a third of the entries above MAX_ENTRIES (300 by default): enough room
            # that addresses spraying failures cannot cull the counts of one another.
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Load balancers probe the processes themselves, over plain HTTP (web.health).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so that a request without credentials gets 401 with WWW-Authenticate: Token.
        "api.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONDocumentParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "COERCE_DECIMAL_TO_STRING": False,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# The documented size limit of an API request body (413 above it), read while streaming.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 20 * 1024 * 1024)
# Failed token authentications allowed per client address and window before 429.
API_AUTH_FAILURE_LIMIT = env_int("API_AUTH_FAILURE_LIMIT", 20)
API_AUTH_FAILURE_WINDOW_SECONDS = env_int("API_AUTH_FAILURE_WINDOW_SECONDS", 300)

SPECTACULAR_SETTINGS = {
    "TITLE": "Myositis registry API",
    "DESCRIPTION": (
        "Submission, read-back and scoring API of the myositis registry. Authenticate with "
        "`Authorization: Token <token>` (`python manage.py api_token USERNAME` issues one) or a "
        "session. Another site's records answer 404 and never appear in lists. Errors are "
        '`{"detail", "code", "errors": [{"field": JSON path, "message"}]}`. The API guide, '
        "with a worked submission, is docs/api.md; every field of the submission document is in "
        "docs/data-dictionary.md."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["api.schema.hooks.canonical_endpoints"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.hooks.add_components",
    ],
}

# Celery: unset broker means eager, in-process execution (the embedded default).
CELERY_BROKER_URL = env_broker("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# A worker keeps the root handler of LOGGING, and its patient-data filter, instead of replacing it
# with Celery's own (its --loglevel still sets the level).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Fail fast when the broker is down at save time: the visit is stored and the sweep scores it
# later (docs/architecture.md "Data flow"), so a web request must not hang waiting for a broker.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    # Redis takes its timeouts from here, not from CELERY_BROKER_CONNECTION_TIMEOUT. Without a
    # read timeout a broker that accepts connections but never answers (hung, or a half-open
    # connection after a failover) blocks a publish, and the request that saved a visit, forever.
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    # Tasks are acknowledged late: a message held by a worker that died is delivered again once
    # it has been unacknowledged this long. Longer than any batch runs, or it is run twice
    # (harmless, tasks are idempotent, but wasted work).
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
}
# The publish of a save's scoring task is retried briefly, then given up: the sweep scores it.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BEAT_SCHEDULE = {
    "scoring-sweep": {
        "task": "scoring.tasks.sweep_stale",
        "schedule": env_int("SCORING_SWEEP_SECONDS", 300),
    },
}

# Logs carry ids, never patient data: every handler has registry.logging's filter, which withholds
# what libraries add on their own (exception messages, the request, SQL parameters, query strings).
LOG_LEVEL = env_log_level("LOG_LEVEL", "WARNING")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"patient_data": {"()": "registry.logging.PatientDataFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        # Django's own format of the development server's request lines (the demo's server).
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["patient_data"],
            "formatter": "plain",
        },
        "django.server": {
            "class": "logging.StreamHandler",
            "filters": ["patient_data"],
            "formatter": "django.server",
        },
    },
    "loggers": {
        # Django's default configuration gives "django" handlers of its own, outside this filter:
        # a console one and AdminEmailHandler, which would mail the request with its POST body and
        # each frame's local variables once ADMINS is set. Replaced by the root's handler, at
        # LOG_LEVEL like everything else.
        "django": {"handlers": [], "level": "NOTSET", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        # A Celery worker gives these (get_task_logger's, and its pool's) a handler of its own
        # unless they have one: this one, with the filter.
        "celery.task": {"handlers": ["console"], "propagate": False},
        "multiprocessing": {"handlers": ["console"], "propagate": False},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo")

# Patients' invitation links (crf/invitations.py): days until a link expires; the e-mail that
# carries one goes through Django's backend (the console in the demo).
PRO_INVITATION_DAYS = env_int("PRO_INVITATION_DAYS", 14)
if PRO_INVITATION_DAYS < 1:
    raise ImproperlyConfigured("PRO_INVITATION_DAYS must be at least 1")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "registry@localhost")

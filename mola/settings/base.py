"""MOLA settings, read from the environment (12-factor) with embedded defaults.

With no environment at all the project runs on one machine with no servers: SQLite in the
data folder, Celery over kombu's filesystem transport, a file-based cache. Set DATABASE_URL,
CELERY_BROKER_URL and REDIS_URL to run on PostgreSQL and Redis.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from kombu import Exchange, Queue

from mola.env import env_bool, env_int, env_list, env_str
from mola.pools import ALL_QUEUES, DEFAULT_QUEUE, ROUTES

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(env_str("MOLA_DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

# The demo secret is public on purpose; production.py refuses to start with it.
DEMO_SECRET_KEY = "mola-demo-secret-key-not-for-production-use-0123456789"
SECRET_KEY = env_str("SECRET_KEY", DEMO_SECRET_KEY)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
PORT = env_int("PORT", 8000)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "mola.apps.MolaConfig",
    "teaching",
    "community",
    "consensus",
    "cases",
    "evaluation",
    "frontend",
]

MIDDLEWARE = [
    "mola.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "mola.middleware.BoundedNumbersMiddleware",
]

ROOT_URLCONF = "mola.urls"
WSGI_APPLICATION = "mola.wsgi.application"

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
                "frontend.context_processors.inbox",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'mola.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
# A kept connection is checked before reuse: after a database restart the first request of
# each thread would otherwise fail on its dead connection.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker are two processes on one file: WAL lets readers go on
    # while a writer commits, IMMEDIATE transactions take the write lock up front (so two
    # writers queue instead of failing with "database is locked" half-way), and the
    # timeout says how long to queue. Connections are kept as on PostgreSQL (conn_max_age
    # above): opening one per request, its PRAGMAs included, was ~14 % of a one-instance
    # predict's time in the web thread (sampled); between requests a kept connection holds
    # no transaction, so it keeps no WAL snapshot from a checkpoint.
    DATABASES["default"]["OPTIONS"] = {
        # wal_autocheckpoint: mola.db.checkpoint says why.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        " PRAGMA wal_autocheckpoint=16384;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # Tests share their database with a real worker process, so it must be a file.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and locks ---------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # A file cache is shared by every process on this machine, unlike the local-memory one.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# --- Celery ------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
BROKER_DIR = DATA_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # The worker lists the queue folder this often; 1 s (kombu's default) would add up
        # to a second to every retrain a teacher waits for.
        "polling_interval": 0.1,
        # A sender rings the consumers here, so they list the queue at once (mola/broker.py).
        "doorbell_folder": str(BROKER_DIR / "doorbells"),
    }
    # kombu's filesystem transport with atomic message writes (see mola/broker.py).
    CELERY_BROKER_TRANSPORT = "mola.broker:Transport"
_default_results = f"file://{DATA_DIR / 'results'}"
if CELERY_BROKER_URL.startswith("redis://"):
    _default_results = CELERY_BROKER_URL
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", _default_results)
if CELERY_RESULT_BACKEND.startswith("file://"):
    Path(CELERY_RESULT_BACKEND.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Each kind of work on its own queue, consumed by its own pool of worker processes
# (mola/pools.py: which, and why): a long consensus check never holds a retrain back.
CELERY_TASK_ROUTES = ROUTES
CELERY_TASK_DEFAULT_QUEUE = DEFAULT_QUEUE
# Declared, so that purging and ``--queues`` know every one of them.
CELERY_TASK_QUEUES = tuple(Queue(name, Exchange(name), routing_key=name) for name in ALL_QUEUES)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 120)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 100)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Auth and API ------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Users' API tokens (django-rest-knox): stored hashed, valid this long after their last use.
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env_int("USER_TOKEN_TTL_DAYS", 30)),
    "AUTO_REFRESH": True,
    "TOKEN_LIMIT_PER_USER": None,
}


# Failed logins counted per account and per client address (API and web alike); past
# either, logins wait for the window's end. Sign-ups per client address.
def _window_rate(name: str, default: str) -> str:
    import re

    from django.core.exceptions import ImproperlyConfigured

    value = env_str(name, default).strip()
    units = "s|sec|second|m|min|minute|h|hour|d|day"
    if value and not re.fullmatch(rf"\d+/\d*({units})", value):
        raise ImproperlyConfigured(f"{name} must look like 10/15min (or be empty), got {value!r}")
    return value


LOGIN_FAILURES_PER_ACCOUNT = _window_rate("LOGIN_FAILURES_PER_ACCOUNT", "10/15min")
LOGIN_FAILURES_PER_ADDRESS = _window_rate("LOGIN_FAILURES_PER_ADDRESS", "50/15min")
SIGNUP_RATE = _window_rate("SIGNUP_RATE", "30/h")
# Proxies (addresses or networks) whose X-Forwarded-For is believed; none by default, so
# the client is the connection's address (see mola/clients.py).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "mola.api.auth.UserTokenAuthentication",
        "teaching.api.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["mola.api.auth.IsUser"],
    "DEFAULT_PARSER_CLASSES": [
        "mola.api.parsers.JSONBodyParser",
        "mola.api.parsers.StrictFormParser",
        "mola.api.parsers.StrictMultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "mola.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "mola.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "mola.api.schema.MolaAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )


# --- Community ---------------------------------------------------------------------------
# Teaching writes per member and space ("<n>/<sec|min|hour|day>"; empty: no limit).
# Novices get the stricter rate: new accounts are how a model gets vandalised.
def _rate(name: str, default: str) -> str:
    import re

    from django.core.exceptions import ImproperlyConfigured

    value = env_str(name, default).strip()
    if value and not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name} must look like 30/min (or be empty), got {value!r}")
    return value


TEACHING_WRITE_RATE_NOVICE = _rate("TEACHING_WRITE_RATE_NOVICE", "30/min")
TEACHING_WRITE_RATE = _rate("TEACHING_WRITE_RATE", "120/min")
# How far back the contributors' share of predictions looks (hourly buckets in the cache).
CREDIT_WINDOW_HOURS = env_int("CREDIT_WINDOW_HOURS", 168)

# --- Training (teaching/services/training) -----------------------------------------------
# Threads a refine fits its forest's trees with: a refine waits for no teacher's write (it
# gives way to one within a part of its forest), so on an idle machine it may take both
# cores; a quick retrain fits no forest. 1 on a machine whose cores the pools already fill.
REFINE_THREADS = env_int("REFINE_THREADS", 2)
# The nice value (0-19, higher yields more) a refine's fit runs at, and the consensus pool's
# processes: both are long CPU work nobody waits on, so on cores they share with a quick
# retrain or a web process they give way (mola/pools.py). 0 turns it off.
REFINE_NICE = env_int("REFINE_NICE", 10)
CONSENSUS_NICE = env_int("CONSENSUS_NICE", 10)

# --- Serving (teaching/services/serving.py) ---------------------------------------------
# A web process keeps answering with the version it holds while it loads a newer one, for
# at most this long after the newer one was published; then a request loads it itself.
SERVING_CATCH_UP_SECONDS = env_int("SERVING_CATCH_UP_SECONDS", 10)
# How often a web process reads the publish notice in the cache (milliseconds; one key,
# whatever the spaces: ~40 small reads a second at 25); with Redis a notice also wakes it at
# once, and the key is read ten times less often. Half of it is the mean wait it adds to a
# teacher's: 100 ms made a quick version at M wait ~50 ms here.
SERVING_POLL_SECONDS = env_int("SERVING_POLL_MS", 25) / 1000

# --- Case pool ---------------------------------------------------------------------------
# Unlabelled cases a space may hold (imports past it are refused whole).
CASE_POOL_MAX = env_int("CASE_POOL_MAX", 200_000)

# --- Consensus (consensus/loading.py) ----------------------------------------------------
# Spaces whose consensus index a process keeps warm (least recently checked dropped first;
# ~350-500 MB each at M, a few MB for a small space). A dropped space's next check builds it
# again (M: ~8-20 s of CPU). A worker of the consensus pool checks; a web process (served
# through mola.wsgi, which says so) needs an index only for rule previews, and each of its
# processes would hold its own copies: it keeps fewer.
CONSENSUS_INDEXES_KEPT = (
    env_int("CONSENSUS_WEB_INDEXES_KEPT", 2)
    if env_str("MOLA_PROCESS", "") == "web"
    else env_int("CONSENSUS_INDEXES_KEPT", 8)
)

# --- Model versions ----------------------------------------------------------------------
# Model versions each space keeps (the serving one always); older ones are pruned by the
# workers' sweep (teaching/services/retention.py). 0 keeps every version.
MODEL_VERSIONS_KEPT = env_int("MODEL_VERSIONS_KEPT", 20)

SPECTACULAR_SETTINGS = {
    "TITLE": "MOLA API",
    "DESCRIPTION": "A community of experts teaches one shared model; clients query it.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",  # the default, kept
        "mola.api.schema.bound_integers",
    ],
    # Served from our own static files: the product runs offline, with no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Static files, i18n ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

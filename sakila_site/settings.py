"""Settings for Sakila Lake.

Every setting that differs between machines comes from an environment
variable, read here and nowhere else. Without any variable set, the site runs
on the embedded default: SQLite under ``var/`` and DEBUG on. With ``DEBUG``
off it refuses to start without a real ``SECRET_KEY`` and ``ALLOWED_HOSTS``,
and turns on the HTTPS protections that ``manage.py check --deploy`` expects.
"""

import math
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from sakila_site.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent


# Where the embedded default keeps its files (database, lake, broker).
VAR_DIR = Path(env_str("SAKILA_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "django-insecure-embedded-default-only-never-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY):
    raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in the environment when DEBUG is off")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "csp",
    "rentals",
    "lake",
    "reports",
    # The project itself, for what spans the apps (the demo's setup_demo command).
    "sakila_site",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # ETag and 304 on the API's GETs (before what may change a response's body).
    "sakila_site.api.ApiConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sakila_site.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "sakila_site.wsgi.application"


# The rental database. DATABASE_URL: sqlite:///path or mysql://user:pass@host:port/db.
def _database_from_url(url: str) -> dict:
    config = dj_database_url.parse(url, conn_max_age=env_int("CONN_MAX_AGE", 0))
    engine = config["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # IMMEDIATE takes the write lock when a transaction starts, so two
            # writers queue up instead of failing with "database is locked".
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        config["TEST"] = {"NAME": str(VAR_DIR / "test-sakila.sqlite3")}
    elif engine == "django.db.backends.mysql":
        config["OPTIONS"] = {
            "charset": "utf8mb4",
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
        }
        config["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    else:
        raise ImproperlyConfigured(f"DATABASE_URL must be sqlite:// or mysql://, not {engine}")
    return config


DATABASES = {
    "default": _database_from_url(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'sakila.sqlite3'}")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed logins are counted per account and per address (django-axes, the login
# page, the admin's and POST /api/auth/token/): after LOGIN_FAILURE_LIMIT
# failures in a row, that username (from any address) and that address (for
# any username) are refused for LOGIN_LOCKOUT_MINUTES; a success resets them.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "sakila_site.security.lockout_response"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"  # clerks at the desk, the others home (sakila_site/views.py)
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
# Sakila's timestamps are naive local times (DATETIME columns, NOW() triggers),
# so the site stores and shows naive times in the business's TIME_ZONE.
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = False

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"  # filled by collectstatic
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# HTTPS protections, on whenever DEBUG is off (each can be turned off behind a
# proxy that terminates TLS by setting the variable to false).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The rental desk: a customer who owes more than this (dollars, e.g. "20.00")
# must pay before renting again, at the desk, in the admin and through the
# API. Empty: no limit (the desk still shows what is owed before renting).
_desk_balance_limit = env_str("DESK_BALANCE_LIMIT").strip()
try:
    DESK_BALANCE_LIMIT = Decimal(_desk_balance_limit) if _desk_balance_limit else None
except ArithmeticError:
    raise ImproperlyConfigured(
        f"DESK_BALANCE_LIMIT must be an amount such as 20.00, not {_desk_balance_limit!r}"
    ) from None
if DESK_BALANCE_LIMIT is not None and not DESK_BALANCE_LIMIT.is_finite():
    raise ImproperlyConfigured(f"DESK_BALANCE_LIMIT must be an amount, not {_desk_balance_limit!r}")

# The data lake. The embedded default: Iceberg tables under var/lake/ with a
# pyiceberg SQL catalog in SQLite, transforms and queries in DuckDB.
LAKE_ENGINE = env_str("LAKE_ENGINE", "local")
LAKE_WAREHOUSE = env_str("LAKE_WAREHOUSE", str(VAR_DIR / "lake"))
LAKE_CATALOG = env_str("LAKE_CATALOG", "sql")
LAKE_CATALOG_URI = env_str(
    "LAKE_CATALOG_URI",
    f"sqlite:///{VAR_DIR / 'lake-catalog.sqlite3'}" if "://" not in LAKE_WAREHOUSE else "",
)
QUERY_ENGINE = env_str("QUERY_ENGINE", "duckdb")
# The SQL console and `lake query` (lake/query/console.py): DuckDB's memory for
# their queries (one shared database per process), its threads, and the most
# result bytes and seconds a query may take, on the page and in a download.
SQL_CONSOLE_MEMORY_LIMIT_MB = env_int("SQL_CONSOLE_MEMORY_LIMIT_MB", 512)
SQL_CONSOLE_THREADS = env_int("SQL_CONSOLE_THREADS", 2)
SQL_CONSOLE_MAX_BYTES = env_int("SQL_CONSOLE_MAX_BYTES", 16 * 1024 * 1024)
SQL_CONSOLE_EXPORT_MAX_BYTES = env_int("SQL_CONSOLE_EXPORT_MAX_BYTES", 128 * 1024 * 1024)
SQL_CONSOLE_TIMEOUT_SECONDS = env_float("SQL_CONSOLE_TIMEOUT_SECONDS", 10.0)
# Rows whose last_update is this close before a watermark are read again, for
# transactions that committed after a later one; unchanged rows are ignored.
LAKE_EXTRACT_OVERLAP_SECONDS = env_int("LAKE_EXTRACT_OVERLAP_SECONDS", 300)
LAKE_EXTRACT_BATCH_ROWS = env_int("LAKE_EXTRACT_BATCH_ROWS", 100_000)
# A running run whose heartbeat is older than this is taken for dead.
LAKE_RUN_STALE_SECONDS = env_int("LAKE_RUN_STALE_SECONDS", 600)
# A worker that has not written its heartbeat (every third of this) for this
# long is taken for gone: the control panel says runs will wait.
LAKE_WORKER_ALIVE_SECONDS = env_int("LAKE_WORKER_ALIVE_SECONDS", 30)
# Desk activity (a rental or payment committed) asks for an incremental run,
# debounced: a burst of rentals within this many seconds makes one run.
LAKE_REFRESH_ON_CHANGE = env_bool("LAKE_REFRESH_ON_CHANGE", True)
LAKE_REFRESH_DEBOUNCE_SECONDS = env_int("LAKE_REFRESH_DEBOUNCE_SECONDS", 2)
# The control panel warns when a lake table's last load is older than this.
LAKE_FRESHNESS_SLA_MINUTES = env_int("LAKE_FRESHNESS_SLA_MINUTES", 90)
# Maintenance (docs/lake.md, "Keeping the lake fast"): snapshots a run published in the
# last LAKE_RETENTION_DAYS stay readable (time travel); older snapshots and raw
# increments are removed. It runs after LAKE_MAINTAIN_AFTER_RUNS pipeline runs
# (0: only on its schedule or by hand), and nightly on a schedule.
LAKE_RETENTION_DAYS = env_float("LAKE_RETENTION_DAYS", 7.0)
LAKE_MAINTAIN_AFTER_RUNS = env_int("LAKE_MAINTAIN_AFTER_RUNS", 25)
# Unreferenced files that no commit named (a killed writer's) are removed once
# this old: a writer outside the pipeline's lock may be writing them now.
LAKE_ORPHAN_MIN_AGE_HOURS = env_float("LAKE_ORPHAN_MIN_AGE_HOURS", 24.0)
# Tests only: "<step>:raise" or "<step>:kill" makes a run fail at that step.
LAKE_FAULT_INJECTION = env_str("LAKE_FAULT_INJECTION")
for _name, _value, _choices in (
    ("LAKE_ENGINE", LAKE_ENGINE, {"local", "glue", "spark"}),
    ("LAKE_CATALOG", LAKE_CATALOG, {"sql", "glue"}),
    ("QUERY_ENGINE", QUERY_ENGINE, {"duckdb", "athena"}),
):
    if _value not in _choices:
        raise ImproperlyConfigured(f"{_name} must be one of {', '.join(sorted(_choices))}")
if LAKE_CATALOG == "sql" and not LAKE_CATALOG_URI:
    raise ImproperlyConfigured("LAKE_CATALOG_URI must be set when LAKE_WAREHOUSE is not a path")

# LAKE_ENGINE=spark (docs/spark.md): the Glue job scripts with spark-submit on
# SPARK_MASTER, in client mode, against the SQL catalog the local engine uses.
SPARK_MASTER = env_str("SPARK_MASTER", "local[2]")
SPARK_SUBMIT_OPTIONS = env_str("SPARK_SUBMIT_OPTIONS")  # more spark-submit options, shell-quoted
SPARK_RUN_DIR = Path(env_str("SPARK_RUN_DIR", str(VAR_DIR / "spark")))  # run properties, logs
if LAKE_ENGINE == "spark" and not (
    LAKE_CATALOG == "sql" and LAKE_CATALOG_URI.startswith("sqlite:///")
):
    raise ImproperlyConfigured(
        "LAKE_ENGINE=spark needs LAKE_CATALOG=sql with a sqlite:/// LAKE_CATALOG_URI: "
        "Spark reaches that catalog through Iceberg's JDBC catalog (see docs/spark.md)"
    )

# Production on AWS (docs/aws.md): LAKE_ENGINE=glue runs the ETL
# as a Glue workflow, LAKE_CATALOG=glue keeps the Iceberg tables in the Glue
# Data Catalog, QUERY_ENGINE=athena runs reports on Athena. Nothing here is
# read unless one of them is set. Credentials come from boto3's own chain
# (environment, instance or task role), never from these settings.
AWS_REGION = env_str("AWS_REGION", env_str("AWS_DEFAULT_REGION"))
# Tests point every client at moto's server; production leaves it empty.
AWS_ENDPOINT_URL = env_str("AWS_ENDPOINT_URL")
# Glue databases are "<GLUE_DATABASE>_staging", "_marts" and "_raw" (the crawler's).
GLUE_DATABASE = env_str("GLUE_DATABASE", "sakila")
GLUE_NAME_PREFIX = env_str("GLUE_NAME_PREFIX", "sakila-lake")  # jobs, crawler, workflow...
GLUE_ROLE_ARN = env_str("GLUE_ROLE_ARN")  # the role the jobs and the crawler run as
GLUE_VERSION = env_str("GLUE_VERSION", "5.0")
GLUE_WORKER_TYPE = env_str("GLUE_WORKER_TYPE", "G.1X")
GLUE_WORKERS = env_int("GLUE_WORKERS", 2)
# A stuck job is stopped (and billed) after this long; Glue's own default is 48 h.
GLUE_JOB_TIMEOUT_MINUTES = env_int("GLUE_JOB_TIMEOUT_MINUTES", 120)
# Each Glue run is a whole workflow (two Spark jobs and a crawl): desk activity
# starts at most one refresh run per this many minutes (docs/aws.md: what it costs).
GLUE_REFRESH_MIN_INTERVAL_MINUTES = env_int("GLUE_REFRESH_MIN_INTERVAL_MINUTES", 15)
# The extract job reads a table with a numeric primary key in this many JDBC
# partitions (parallel queries on key ranges) once it reads at least
# GLUE_EXTRACT_PARTITION_ROWS rows; smaller reads are one query.
GLUE_EXTRACT_PARTITIONS = env_int("GLUE_EXTRACT_PARTITIONS", 8)
GLUE_EXTRACT_PARTITION_ROWS = env_int("GLUE_EXTRACT_PARTITION_ROWS", 100_000)
# The role the Glue Data Catalog's table optimizers (compaction, snapshot
# retention, orphan file deletion) run as: docs/aws-iam-table-optimizer.json.
GLUE_OPTIMIZER_ROLE_ARN = env_str("GLUE_OPTIMIZER_ROLE_ARN")
# Snapshot retention on AWS: the local lake's window by default, in whole days
# as the optimizer takes it.
GLUE_SNAPSHOT_RETENTION_DAYS = env_int(
    "GLUE_SNAPSHOT_RETENTION_DAYS", max(1, math.ceil(LAKE_RETENTION_DAYS))
)
# The JDBC connection to the RDS MySQL database; the login is a Secrets
# Manager secret (username, password), never a setting.
GLUE_JDBC_URL = env_str("GLUE_JDBC_URL")
GLUE_JDBC_SECRET_ID = env_str("GLUE_JDBC_SECRET_ID")
GLUE_SUBNET_ID = env_str("GLUE_SUBNET_ID")
GLUE_SECURITY_GROUP_IDS = env_list("GLUE_SECURITY_GROUP_IDS")
GLUE_AVAILABILITY_ZONE = env_str("GLUE_AVAILABILITY_ZONE")
# Job scripts, the SQL and the job library are uploaded under this prefix.
GLUE_ASSETS_URI = env_str(
    "GLUE_ASSETS_URI", f"{LAKE_WAREHOUSE.rstrip('/')}/_glue" if "://" in LAKE_WAREHOUSE else ""
)
ATHENA_WORKGROUP = env_str("ATHENA_WORKGROUP", "sakila-lake")
ATHENA_S3_STAGING_DIR = env_str(
    "ATHENA_S3_STAGING_DIR",
    f"{LAKE_WAREHOUSE.rstrip('/')}/_athena" if "://" in LAKE_WAREHOUSE else "",
)
# Athena reuses a query's earlier result up to this age (0: never).
ATHENA_RESULT_REUSE_MINUTES = env_int("ATHENA_RESULT_REUSE_MINUTES", 60)
# What Athena charges per TB scanned (USD), for the cost shown on reports.
ATHENA_PRICE_PER_TB = env_float("ATHENA_PRICE_PER_TB", 5.0)
_uses_aws = [
    f"{name}={value}"
    for name, value in (
        ("LAKE_ENGINE", LAKE_ENGINE), ("LAKE_CATALOG", LAKE_CATALOG), ("QUERY_ENGINE", QUERY_ENGINE)
    )
    if value in ("glue", "athena")
]  # fmt: skip
if _uses_aws:
    _needed = {"AWS_REGION": AWS_REGION}
    if LAKE_ENGINE == "glue" or LAKE_CATALOG == "glue":
        _needed["LAKE_WAREHOUSE (an s3:// URI)"] = LAKE_WAREHOUSE.startswith("s3://")
    if QUERY_ENGINE == "athena":
        _needed["ATHENA_S3_STAGING_DIR"] = ATHENA_S3_STAGING_DIR
    if QUERY_ENGINE == "athena":  # Athena reads the tables the Glue catalog holds
        _needed["LAKE_CATALOG=glue"] = LAKE_CATALOG == "glue"
    if _missing := [name for name, value in _needed.items() if not value]:
        raise ImproperlyConfigured(
            f"{', '.join(_uses_aws)} needs {', '.join(_missing)} (see docs/aws.md)"
        )

# Celery. The embedded default needs no server: messages are rows of a SQLite
# file under var/, handed over in transactions (sakila_site/broker.py).
# Production and CI use redis://.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", f"sqlite:///{VAR_DIR / 'broker.sqlite3'}")
if CELERY_BROKER_URL.startswith("sqlite://"):
    CELERY_BROKER_TRANSPORT = "sakila_site.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "polling_interval": 0.2,
        # A task taken by a worker that was killed before starting it comes back after
        # this long. Delivering a task twice is safe: a run is claimed only once.
        "visibility_timeout": env_int("CELERY_BROKER_VISIBILITY_TIMEOUT", 300),
    }
    # A worker holds at most one waiting task per thread: less to wait for if it dies.
    CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True  # runs record their own state
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# django-celery-beat's, which also watches for alerts (sakila_site/beat.py).
CELERY_BEAT_SCHEDULER = "sakila_site.beat:Scheduler"
DJANGO_CELERY_BEAT_TZ_AWARE = False  # the site keeps naive local times (USE_TZ off)

# The cache (report results): a file cache under VAR_DIR, shared by every
# process of the embedded default; CACHE_URL=redis://... uses Redis instead.
CACHE_URL = env_str("CACHE_URL")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# The REST API: token or session login on every endpoint, model permissions
# per role (read needs the view permission too), errors as RFC 9457 problems.
from sakila_site.api_settings import (  # noqa: E402, F401 (plain data, read by Django)
    DRF_STANDARDIZED_ERRORS,
    REST_FRAMEWORK,
    SPECTACULAR_SETTINGS,
)

# How long the API keeps an Idempotency-Key and its answer (sakila_site/idempotency.py).
IDEMPOTENCY_KEY_HOURS = env_int("IDEMPOTENCY_KEY_HOURS", 24)

# Content-Security-Policy on every page (django-csp): scripts, styles, images
# and fonts from this site only, no inline scripts, no framing, forms post
# here only. Style attributes stay allowed (bar widths of the run timeline
# and the report charts are computed per row); they cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Email (alerts). The embedded default writes each message to a file under
# var/mail/; production sets an SMTP server (or another Django backend).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Sakila Lake <lake@localhost>")

# Alerts (docs/orchestration.md, "Alerts"): when a run fails, its checks fail, the
# lake goes stale or no worker runs, each subscribed user is emailed once per
# incident, and once when it is resolved; ALERT_WEBHOOK_URL (Slack-compatible)
# gets the same. Celery beat looks every ALERT_WATCH_SECONDS (it keeps looking
# when no worker runs). Links in alerts start with SITE_URL.
ALERT_WEBHOOK_URL = env_str("ALERT_WEBHOOK_URL")
ALERT_NO_WORKER_MINUTES = env_float("ALERT_NO_WORKER_MINUTES", 5.0)
ALERT_WATCH_SECONDS = env_int("ALERT_WATCH_SECONDS", 20)
ALERT_DELIVERY_ATTEMPTS = env_int("ALERT_DELIVERY_ATTEMPTS", 5)
# On AWS, lake deploy subscribes these addresses to the Glue failures' SNS topic.
ALERT_EMAILS = env_list("ALERT_EMAILS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if ALERT_WEBHOOK_URL and not ALERT_WEBHOOK_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        f"ALERT_WEBHOOK_URL must be an http(s):// URL, not {ALERT_WEBHOOK_URL!r}"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # boto3's INFO lines ("Found credentials in environment variables.", the
    # endpoint found) came with every command and every client made.
    "loggers": {
        name: {"level": env_str("AWS_LOG_LEVEL", "WARNING")}
        for name in ("boto3", "botocore", "s3transfer")
    },
}

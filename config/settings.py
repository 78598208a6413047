"""Every setting comes from the environment (django-environ). Production is the default: DEBUG is off unless
the environment turns it on, and then SECRET_KEY and FIELD_ENCRYPTION_KEY are required. With DEBUG=true (what
`make demo` sets) the embedded defaults run everything on a laptop: SQLite in WAL mode and the django-q2 ORM
broker. Every variable, its default and the production values: .env.example and docs/security.md."""

import base64
import hashlib
import warnings
from datetime import timedelta
from pathlib import Path

import environ

from config.env import debug_flag, encryption_keys, proxy_ssl_header, secret_key, strict_bool

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = debug_flag()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
_EMBEDDED_SECRET = "switchyard-embedded-insecure-secret-key-for-local-use-only"
SECRET_KEY = secret_key(env.ENVIRON.get("SECRET_KEY"), debug=DEBUG, embedded=_EMBEDDED_SECRET, hosts=ALLOWED_HOSTS)
# Old keys still accepted for sessions and signatures while a new SECRET_KEY takes over (Django's rotation).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

# HTTPS, from the environment so `check --deploy` can be made silent without editing code (docs/security.md).
SECURE_SSL_REDIRECT = strict_bool("SECURE_SSL_REDIRECT", default=False)
SECURE_PROXY_SSL_HEADER = proxy_ssl_header(env("SECURE_PROXY_SSL_HEADER", default=""))
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = strict_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = strict_bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = strict_bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = strict_bool("CSRF_COOKIE_SECURE", default=False)

INSTALLED_APPS = [
    "integrations.site.SwitchyardAdminConfig",  # django.contrib.admin with the dashboard as its index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "import_export",
    "integrations",
    "catalog",
    "orders",
    "inventory",
    "axes",
    "access",  # last: its post_migrate puts every app's permissions in the role groups
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires: it turns a lockout into its 429 page
]

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failed logins for one username from one address, that
# pair is refused for AXES_COOLOFF_MINUTES, even with the right password; a successful login resets the count.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Workers keep their connection between tasks (checked before reuse) instead of opening one per task: a
# connection per task was a measurable part of a short run on PostgreSQL (docs/deployment.md).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=300)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the admin read while a worker writes; IMMEDIATE transactions plus a busy timeout make
    # concurrent writers wait for each other instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=30),
    }
    # A file, not :memory:, so a django-q2 cluster started by a test sees the test's rows.
    DATABASES["default"]["TEST"] = {"NAME": env("SQLITE_TEST_NAME", default=str(BASE_DIR / ".test.sqlite3"))}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "static"

# Credentials are encrypted with the first of these Fernet keys and decrypted with any of them (MultiFernet), so
# a new key goes first and `manage.py rotate_encryption_keys` re-encrypts what the old ones wrote. In DEBUG only,
# an unset key is derived from SECRET_KEY (with a warning) so a laptop needs no setup.
_DERIVED_KEY = base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()
FIELD_ENCRYPTION_KEYS = encryption_keys(env("FIELD_ENCRYPTION_KEY", default=""), debug=DEBUG, fallback=_DERIVED_KEY)
if not env("FIELD_ENCRYPTION_KEY", default=""):  # derived: said once, not by the processes given the key
    warnings.warn(
        "FIELD_ENCRYPTION_KEY is not set: channel credentials are encrypted with a key derived from "
        "SECRET_KEY. Set FIELD_ENCRYPTION_KEY in production.",
        stacklevel=1,
    )

# `manage.py demo` gives the login it creates this password (blank: a random one, printed).
DEMO_PASSWORD = env("DEMO_PASSWORD", default="")

REDIS_URL = env("REDIS_URL", default="")
Q_CLUSTER = {
    "name": "switchyard",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=1800),
    "retry": env.int("Q_RETRY", default=1860),  # kept above timeout, as django-q2 requires
    "max_attempts": 1,
    "catch_up": False,
    "save_limit": 1000,
    # The ORM broker's wait between looks at an empty queue: the wait before a queued task starts (Redis
    # blocks instead). 0.2 s costs the database five cheap queries a second per cluster (docs/deployment.md).
    "poll": env.float("Q_POLL", default=0.2),
    "orm": None if REDIS_URL else "default",
    "redis": REDIS_URL or None,
    "label": "Task queue",
}
if not REDIS_URL:
    del Q_CLUSTER["redis"]
else:
    del Q_CLUSTER["orm"]

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "integrations.redaction.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django_q": {"level": env("Q_LOG_LEVEL", default="WARNING")}},
}

# Order notifications: a signed timestamp further than this many seconds from now is refused (docs/orders.md).
HOOK_TOLERANCE = env.int("HOOK_TOLERANCE", default=300)

# Every admin message is redacted as it is added (integrations/message_storage.py).
MESSAGE_STORAGE = "integrations.message_storage.RedactingMessageStorage"

# Import/export: skip the per-row diff so large previews stay fast; our resources report their own errors.
IMPORT_EXPORT_SKIP_ADMIN_LOG = True
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

# Limits on uploaded spreadsheets, checked before a file is parsed (integrations/file_limits.py; docs/security.md,
# "Files people upload"). An XLSX is a zip archive: its members' declared sizes are checked before it is opened.
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=100 * 1024 * 1024)
IMPORT_MAX_UNCOMPRESSED_BYTES = env.int("IMPORT_MAX_UNCOMPRESSED_BYTES", default=1024 * 1024 * 1024)
IMPORT_MAX_MEMBER_BYTES = env.int("IMPORT_MAX_MEMBER_BYTES", default=128 * 1024 * 1024)  # read whole: not sheets
IMPORT_MAX_COMPRESSION_RATIO = env.int("IMPORT_MAX_COMPRESSION_RATIO", default=100)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=1_000_000)
# Admin imports: files larger than this are checked and written by a django-q2 worker, not in the request; the
# upload waits in IMPORT_UPLOAD_DIR (shared by the web and worker processes, never served) until it is confirmed,
# cancelled or IMPORT_KEEP_HOURS old (docs/mapping.md).
IMPORT_BACKGROUND_BYTES = env.int("IMPORT_BACKGROUND_BYTES", default=256 * 1024)
IMPORT_UPLOAD_DIR = Path(env("IMPORT_UPLOAD_DIR", default=str(BASE_DIR / "uploads")))
IMPORT_KEEP_HOURS = env.int("IMPORT_KEEP_HOURS", default=24)

# Outbound HTTP (integrations/http.py): retries with exponential backoff from HTTP_RETRY_BACKOFF seconds.
HTTP_RETRY_ATTEMPTS = env.int("HTTP_RETRY_ATTEMPTS", default=5)
HTTP_RETRY_BACKOFF = env.float("HTTP_RETRY_BACKOFF", default=0.5)
HTTP_CONNECT_TIMEOUT = env.float("HTTP_CONNECT_TIMEOUT", default=5.0)
HTTP_READ_TIMEOUT = env.float("HTTP_READ_TIMEOUT", default=30.0)

# Inventory pushes (inventory/upload.py, inventory/pushes.py): above FANOUT changed listings the upload
# queues chunk tasks of CHUNK listings; a push left `sending` longer than STALE seconds (default: the
# task timeout) is presumed dead and settled by reading the channel back. The sizes come from the day bench's
# queue share (docs/deployment.md): a task costs django-q2 about 70 ms (enqueue and pickup), a chunk of 1,000
# listings takes seconds, so the queue stays near 1 % of it while a large push is shared by every worker.
INVENTORY_FANOUT_LISTINGS = env.int("INVENTORY_FANOUT_LISTINGS", default=2000)
INVENTORY_CHUNK_LISTINGS = env.int("INVENTORY_CHUNK_LISTINGS", default=1000)
INVENTORY_SENDING_STALE_SECONDS = env.int("INVENTORY_SENDING_STALE_SECONDS", default=Q_CLUSTER["timeout"])
INVENTORY_INTENT_RETENTION_DAYS = env.int("INVENTORY_INTENT_RETENTION_DAYS", default=7)

# Order submissions (orders/submission.py): above FANOUT ready orders of a sales channel (0: never) the
# submission queues chunk tasks of CHUNK orders, which any worker takes (the submission claim keeps an order to
# one sender). A chunk of 200 orders is one POST each, seconds of work beside a task's ~70 ms in django-q2.
ORDERS_SUBMIT_FANOUT = env.int("ORDERS_SUBMIT_FANOUT", default=400)
ORDERS_SUBMIT_CHUNK = env.int("ORDERS_SUBMIT_CHUNK", default=200)

# Alerts (integrations/alerts.py): a digest per channel to its contacts, at most one per ALERT_INTERVAL_MINUTES,
# with links that start with SITE_URL. EMAIL_URL picks the mail backend: the console by default (the demo prints
# digests), smtp://user:password@host:587/?tls=True in production.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
ALERT_INTERVAL_MINUTES = env.int("ALERT_INTERVAL_MINUTES", default=60)
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="switchyard@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Sync runs older than this are deleted by the runner as each flow runs (the latest success of a flow is kept).
SYNC_RUN_RETENTION_DAYS = env.int("SYNC_RUN_RETENTION_DAYS", default=30)

# `manage.py demo`: the admin user's password (blank: a random one for a new user, printed in the banner).
DEMO_PASSWORD = env("DEMO_PASSWORD", default="")

"""Django settings for Arena.

Every value comes from the environment (see README "Configuration"); the defaults give a
zero-setup development run: SQLite, an in-memory channel layer and Celery tasks run inline.
A value that cannot be parsed stops start-up with a message naming the variable.
"""

from __future__ import annotations

import re
from pathlib import Path

import dj_database_url

from arena.env import (
    SettingsError,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("ARENA_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", True)
# How Arena was started (DJANGO_DEBUG=0): unlike DEBUG, which test runners switch off, this stays
# what the operator chose. Commands that must behave differently in production read it.
PRODUCTION = not DEBUG

_DEV_SECRET_KEY = "arena-development-key-not-for-production"  # noqa: S105 - only used when DEBUG
SECRET_KEY = env_str("SECRET_KEY", "" if not DEBUG else _DEV_SECRET_KEY)
if not DEBUG and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY):
    raise SettingsError("SECRET_KEY must be set to a long random value when DJANGO_DEBUG=0.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise SettingsError("ALLOWED_HOSTS must list the host names Arena is served under when DJANGO_DEBUG=0.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # daphne's ``runserver`` (ASGI and WebSockets in development), without daphne's own
    # AppConfig, which loads its Twisted server into every process at start-up.
    "arena.apps.DaphneRunserverConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "template_partials",
    "arena",
    "judge",
    "live",
    "reports",
]

MIDDLEWARE = [
    "arena.observability.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "arena.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "arena.urls"
WSGI_APPLICATION = "arena.wsgi.application"
ASGI_APPLICATION = "arena.asgi.application"

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

# --- Database: SQLite file by default, PostgreSQL (psycopg 3) via DATABASE_URL -------------
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'arena.sqlite3'}",
    schemes=("sqlite", "postgres", "postgresql", "pgsql"),
)
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0, minimum=0))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_POOL", True):
    # A process-wide psycopg pool, shared by the request threads (arena.asgi) and any other
    # thread of the process (Celery's), bounded by DB_POOL_MAX_SIZE.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    #
    # After a PostgreSQL restart every pooled connection is dead, and psycopg_pool reconnects with
    # an exponential backoff (1, 2, 4 … 32 s): pages failed for over 30 s after the server was back.
    # CONN_HEALTH_CHECKS makes the pool test a connection (one empty statement) as it is handed out
    # and replace a dead one; a short ``reconnect_timeout`` ends a backoff series early, so the next
    # request starts a fresh attempt at once instead of waiting for the backoff's next try.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN_SIZE", 2, minimum=0),
        "max_size": env_int("DB_POOL_MAX_SIZE", 20, minimum=1),
        "timeout": env_float("DB_POOL_TIMEOUT", 30.0, minimum=1.0),
        "reconnect_timeout": env_float("DB_POOL_RECONNECT_TIMEOUT", 1.0, minimum=0.1),
    }
# Requests a web process runs at once (arena.asgi); the rest wait their turn. Fewer threads
# compete less for the GIL; more keep slow pages from holding up quick ones.
WEB_THREADS = env_int("WEB_THREADS", 8, minimum=1)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo database: wait on a locked file instead of failing under the inline worker. A
    # transaction takes the write lock when it starts (a deferred one that reads, then writes,
    # fails at once with "database is locked" instead of waiting when two raters vote at the same
    # time), and WAL lets pages read while the background refresh or a vote writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20, transaction_mode="IMMEDIATE", init_command="PRAGMA journal_mode=WAL;"
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, Channels, cache --------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", "", schemes=("redis", "rediss", "unix"))
# Seconds a web request waits on Redis before carrying on without it, and how long a process then
# leaves Redis alone before trying again (arena.redis_clients).
ARENA_REDIS_TIMEOUT = env_float("ARENA_REDIS_TIMEOUT", 0.5, minimum=0.05)
ARENA_REDIS_RETRY_SECONDS = env_float("ARENA_REDIS_RETRY_SECONDS", 2.0, minimum=0.0)
# Sessions live in the database only: with Redis down (or restarted) nobody is logged out, and a
# logout is never undone by a cached copy of the session that Redis missed the deletion of.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
if REDIS_URL:
    # redis-py 8 reads with a 5 s socket timeout by default, which aborts channels-redis's
    # blocking 5 s BZPOPMIN: every idle WebSocket then dies with 1011 every five seconds
    # (channels_redis issue 422). A longer read timeout still catches a dead Redis.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30, "socket_connect_timeout": 5}]},
        }
    }
    # Short timeouts: a request never waits long on a Redis that is down or hangs (arena.cache).
    CACHES = {
        "default": {
            "BACKEND": "arena.cache.ArenaRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": ARENA_REDIS_TIMEOUT, "socket_timeout": ARENA_REDIS_TIMEOUT},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # Room for every rater's rate-limit counter: the default 300 entries would evict them.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }

# --- Celery: inline by default, a real broker when CELERY_BROKER_URL is set ---------------
CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", "", schemes=("redis", "rediss", "amqp", "amqps", "pyamqp"))
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message reserved at a time: a judge task is a batch whose rows run at once, so a worker
# reserving several would hold rows that another worker process could be sending.
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("CELERY_PREFETCH_MULTIPLIER", 1, minimum=1)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "judge.tasks.*": {"queue": "judge"},
    "arena.tasks.*": {"queue": "ratings"},
    "live.tasks.*": {"queue": "ratings"},
}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Auth ---------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
# Failed log-ins (site and admin; arena.services.logins): an account name or a client address
# with this many failures within the window is refused until the oldest leaves the window, so
# nobody is locked out longer than ARENA_LOGIN_WINDOW_SECONDS after the guessing stops.
ARENA_LOGIN_FAILURES_PER_ACCOUNT = env_int("ARENA_LOGIN_FAILURES_PER_ACCOUNT", 10, minimum=1)
ARENA_LOGIN_FAILURES_PER_ADDRESS = env_int("ARENA_LOGIN_FAILURES_PER_ADDRESS", 30, minimum=1)
ARENA_LOGIN_WINDOW_SECONDS = env_int("ARENA_LOGIN_WINDOW_SECONDS", 900, minimum=1)
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# --- E-mail: only for password-reset links. Without EMAIL_HOST there is no way to send one, so
# /accounts/password_reset/ and the reset links are switched off (404) rather than pretending.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "arena@localhost")
ARENA_PASSWORD_RESET = bool(EMAIL_HOST)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files: whitenoise; htmx is vendored in static/vendor from the npm registry ---
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

ADMIN_PATH = env_str("ADMIN_PATH", "admin/").strip("/") + "/"
# Behind a reverse proxy: trust its X-Forwarded-Proto (production) and take the client's address
# from the last X-Forwarded-For entry, the one the proxy added (login throttling). Off: the
# headers are the client's own words and are ignored.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)

# --- Production hardening (DJANGO_DEBUG=0) ------------------------------------------------
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
    if BEHIND_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# One JSON line per request and per task (with ids) when ARENA_JSON_LOGS=1; see arena/observability.py.
ARENA_JSON_LOGS = env_bool("ARENA_JSON_LOGS", False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "arena.observability.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json"}
        if ARENA_JSON_LOGS
        else {"class": "logging.StreamHandler"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The openai client's HTTP layer logs every judge request at INFO: thousands per batch.
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
        # Per-request/per-task lines are for machines; without JSON logs they would only be noise.
        "arena.request": {"level": "INFO" if ARENA_JSON_LOGS else "WARNING"},
        "arena.task": {"level": "INFO" if ARENA_JSON_LOGS else "WARNING"},
    },
}

# --- Arena --------------------------------------------------------------------------------
ARENA_DATA_DIR = BASE_DIR / "arena" / "data"
# Word list that flags answers revealing their model ("As ChatGPT", "I am Vicuna").
ARENA_IDENTITY_WORDS = env_list(
    "ARENA_IDENTITY_WORDS",
    [
        "chatgpt",
        "openai",
        "gpt-3",
        "gpt-4",
        "vicuna",
        "alpaca",
        "llama",
        "bard",
        "claude",
        "anthropic",
        "guanaco",
        "koala",
        "palm",
        "lmsys",
        "google",
        "meta ai",
        "dolly",
        "mpt",
        "falcon",
        "wizardlm",
    ],
)
ARENA_LEASE_SECONDS = env_int("ARENA_LEASE_SECONDS", 600, minimum=10)
ARENA_TARGET_VOTES = env_int("ARENA_TARGET_VOTES", 1, minimum=1)
# --- Rating (issue #4): sign-up, the queue of comparisons, rate limits, quality control ---
# Anyone may create a rater account at /accounts/signup/; otherwise only with an invite link.
ARENA_OPEN_SIGNUP = env_bool("ARENA_OPEN_SIGNUP", False)
ARENA_INVITE_MAX_AGE_DAYS = env_int("ARENA_INVITE_MAX_AGE_DAYS", 14, minimum=1)
# "balanced": fewest votes first. "informative": the model pair with the fewest battles first.
ARENA_QUEUE_STRATEGY = env_str("ARENA_QUEUE_STRATEGY", "balanced")
if ARENA_QUEUE_STRATEGY not in ("balanced", "informative"):
    raise SettingsError(f"ARENA_QUEUE_STRATEGY={ARENA_QUEUE_STRATEGY!r} must be balanced or informative.")
# Share of served comparisons that are gold (known answer) while unseen gold remains.
ARENA_GOLD_RATE = env_float("ARENA_GOLD_RATE", 0.1, minimum=0.0)
# A rater with at least ARENA_GOLD_MIN_VOTES gold votes below this accuracy is flagged.
ARENA_GOLD_MIN_ACCURACY = env_float("ARENA_GOLD_MIN_ACCURACY", 0.7, minimum=0.0)
ARENA_GOLD_MIN_VOTES = env_int("ARENA_GOLD_MIN_VOTES", 3, minimum=1)
# Anomalous raters (reports.selectors.rater_checks): the false discovery rate of the Benjamini-
# Hochberg correction, and the reading-speed floor (a vote faster than reading both answers
# at this many words per second is too fast).
ARENA_RATER_FDR = env_float("ARENA_RATER_FDR", 0.05, minimum=0.0)
ARENA_RATER_WORDS_PER_SECOND = env_float("ARENA_RATER_WORDS_PER_SECOND", 20.0, minimum=0.1)
ARENA_VOTE_RATE_LIMIT = env_int("ARENA_VOTE_RATE_LIMIT", 30, minimum=1)  # votes per rater per minute
ARENA_DAILY_TARGET = env_int("ARENA_DAILY_TARGET", 100, minimum=0)  # shown as progress on /rate/
# /bench/ (benchmarks/urls.py): the minimal views benchmarks/bench_vote.py compares against; off in normal runs.
ARENA_BENCH_VIEWS = env_bool("ARENA_BENCH_VIEWS", False)
ARENA_SNAPSHOT_DEBOUNCE_SECONDS = env_float("ARENA_SNAPSHOT_DEBOUNCE_SECONDS", 5.0, minimum=0.0)
# Leaderboards: bootstrap rounds unless a request asks otherwise, and the most a request may ask.
ARENA_BOOTSTRAP_ROUNDS = env_int("ARENA_BOOTSTRAP_ROUNDS", 1000, minimum=0)
ARENA_MAX_BOOTSTRAP_ROUNDS = env_int("ARENA_MAX_BOOTSTRAP_ROUNDS", 5000, minimum=0)
if ARENA_BOOTSTRAP_ROUNDS > ARENA_MAX_BOOTSTRAP_ROUNDS:
    raise SettingsError(
        f"ARENA_BOOTSTRAP_ROUNDS={ARENA_BOOTSTRAP_ROUNDS} is more than ARENA_MAX_BOOTSTRAP_ROUNDS="
        f"{ARENA_MAX_BOOTSTRAP_ROUNDS}: the default would be refused."
    )
# A page asking for a leaderboard never computed is computed in the request up to this many
# verdicts; above it the page says "computing…" and a worker builds the snapshot.
ARENA_SNAPSHOT_SYNC_MAX_BATTLES = env_int("ARENA_SNAPSHOT_SYNC_MAX_BATTLES", 20000, minimum=0)
ARENA_SOURCES_CACHE_SECONDS = env_int("ARENA_SOURCES_CACHE_SECONDS", 30, minimum=0)
# Leaderboard models with fewer battles are listed after the ranked ones as provisional.
ARENA_LEADERBOARD_MIN_BATTLES = env_int("ARENA_LEADERBOARD_MIN_BATTLES", 30, minimum=0)
# The weak Gaussian prior of plain Bradley-Terry leaderboards (sd in rating points; 0: none).
ARENA_LEADERBOARD_PRIOR_SD = env_float("ARENA_LEADERBOARD_PRIOR_SD", 400.0, minimum=0.0)
# `manage.py leaderboard --permutations` may average Elo over this many orders (web requests
# stay at ARENA_MAX_BOOTSTRAP_ROUNDS).
# Agreement on fewer verdict pairs than this is refused with a message instead of drawn.
ARENA_AGREEMENT_MIN_PAIRS = env_int("ARENA_AGREEMENT_MIN_PAIRS", 30, minimum=1)
ARENA_COMMAND_MAX_PERMUTATIONS = env_int("ARENA_COMMAND_MAX_PERMUTATIONS", 100000, minimum=0)
# --- The rating page (issue #17): one-click voting, changing a vote, training reveals -------
# "optional": each rater chooses (two-step until they switch); "default": one-click until a rater
# switches; "off": the two-step form for everyone (studies that want grades with every vote).
ARENA_ONE_CLICK_VOTING = env_str("ARENA_ONE_CLICK_VOTING", "optional")
if ARENA_ONE_CLICK_VOTING not in ("optional", "default", "off"):
    raise SettingsError(
        f"ARENA_ONE_CLICK_VOTING={ARENA_ONE_CLICK_VOTING!r} must be optional, default or off."
    )
# How long after casting a vote its rater may still change it (every earlier version is kept).
ARENA_VOTE_EDIT_SECONDS = env_int("ARENA_VOTE_EDIT_SECONDS", 600, minimum=0)
# After the reveal, show the reference answer and the imported verdicts on the same pair (training).
ARENA_REVEAL_TRAINING = env_bool("ARENA_REVEAL_TRAINING", False)
# Every stored snapshot is recomputed after new verdicts, so their number is bounded: at most
# this many (the least recently read are deleted first), and one unread this long is deleted.
ARENA_SNAPSHOT_MAX = env_int("ARENA_SNAPSHOT_MAX", 200, minimum=1)
ARENA_SNAPSHOT_UNREAD_SECONDS = env_int("ARENA_SNAPSHOT_UNREAD_SECONDS", 7 * 24 * 3600, minimum=60)
# Without a broker, snapshots are refreshed on a background thread after the response; 1 runs
# the refresh inline right after the writing transaction commits (tests that read it at once).
ARENA_SNAPSHOT_REFRESH_INLINE = env_bool("ARENA_SNAPSHOT_REFRESH_INLINE", False)

# --- LLM judges (judge app) ---------------------------------------------------------------
# Defaults for judges and contenders whose base_url / api_key_env are empty.
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL", "")
# A judge's or contender's key variable must start with this prefix (or be OPENAI_API_KEY), so no
# other variable of a worker (SECRET_KEY, DATABASE_URL, ...) can be sent to an endpoint; see
# arena.keys. A namespace of its own: capital letters, digits and _, ending in _.
ARENA_KEY_PREFIX = env_str("ARENA_KEY_PREFIX", "ARENA_KEY_")
if not re.fullmatch(r"[A-Z][A-Z0-9_]*_", ARENA_KEY_PREFIX):
    raise SettingsError(
        f"ARENA_KEY_PREFIX={ARENA_KEY_PREFIX!r} must be capital letters, digits and _, ending in _."
    )
# Hosts judges and contenders may be sent requests (and keys) to; empty: any host. A leading dot
# allows subdomains too (.example.org), as in ALLOWED_HOSTS.
ARENA_JUDGE_HOSTS = env_list("ARENA_JUDGE_HOSTS", [])
# Transient failures (429, 5xx, timeouts, resets) are retried this many times, then recorded as failed.
JUDGE_MAX_ATTEMPTS = env_int("JUDGE_MAX_ATTEMPTS", 6, minimum=1)
JUDGE_REQUEST_TIMEOUT = env_float("JUDGE_REQUEST_TIMEOUT", 120.0, minimum=1.0)
JUDGE_BACKOFF_BASE = env_float("JUDGE_BACKOFF_BASE", 1.0, minimum=0.0)
JUDGE_BACKOFF_CAP = env_float("JUDGE_BACKOFF_CAP", 60.0, minimum=0.0)
# A judgment claimed by a worker that died is given to another after this many seconds.
JUDGE_CLAIM_SECONDS = env_int("JUDGE_CLAIM_SECONDS", 300, minimum=5)
# A request slot in Redis is leased this long and renewed while the request runs: the slots of a
# killed worker come back after at most this many seconds.
JUDGE_SLOT_LEASE_SECONDS = env_float("JUDGE_SLOT_LEASE_SECONDS", 10.0, minimum=1.0)
# judge_runs_resume_stale: pending judgments of a running run untouched this long are re-enqueued.
JUDGE_STALE_SECONDS = env_int("JUDGE_STALE_SECONDS", 600, minimum=10)
JUDGE_PROGRESS_INTERVAL = env_float("JUDGE_PROGRESS_INTERVAL", 0.5, minimum=0.0)
# When the database or Redis goes away mid-run, a worker waits this long for it to come back and
# then carries on by itself; replies already received are spooled to ARENA_VAR_DIR/judge-spool
# meanwhile and stored when the database answers again (judge.services.spool).
JUDGE_OUTAGE_WAIT_SECONDS = env_int("JUDGE_OUTAGE_WAIT_SECONDS", 3600, minimum=0)
# Output tokens assumed per judgment in the cost estimate shown before a run starts.
JUDGE_ESTIMATE_OUTPUT_TOKENS = env_int("JUDGE_ESTIMATE_OUTPUT_TOKENS", 300, minimum=0)
# /judge/runs/new/ asks to confirm a run above either of these (judgments sent, estimated US$).
JUDGE_CONFIRM_JUDGMENTS = env_int("JUDGE_CONFIRM_JUDGMENTS", 10000, minimum=0)
JUDGE_CONFIRM_COST = env_float("JUDGE_CONFIRM_COST", 10.0, minimum=0.0)
# Without a broker (tasks inline) a run is judged by this many threads of the web/CLI process.
JUDGE_EAGER_THREADS = env_int("JUDGE_EAGER_THREADS", 8, minimum=0)
# Judgments per Celery task: loaded, rendered and cache-checked together, sent concurrently.
JUDGE_TASK_BATCH = env_int("JUDGE_TASK_BATCH", 32, minimum=1)
JUDGE_GENERATION_CONCURRENCY = env_int("JUDGE_GENERATION_CONCURRENCY", 8, minimum=1)
# Periodic work for `celery beat` (see the Procfile).
CELERY_BEAT_SCHEDULE = {
    "judge-resume-stale-runs": {
        "task": "judge.tasks.judge_runs_resume_stale_task",
        "schedule": float(env_int("JUDGE_STALE_CHECK_SECONDS", 300, minimum=10)),
    },
    "arena-expire-leases": {
        "task": "arena.tasks.leases_expire",
        "schedule": float(env_int("ARENA_LEASE_SWEEP_SECONDS", 60, minimum=5)),
    },
    "live-abandon-stale-battles": {
        "task": "live.tasks.battles_abandon_stale",
        "schedule": float(env_int("ARENA_LIVE_SWEEP_SECONDS", 60, minimum=5)),
    },
    "arena-refresh-snapshots": {
        "task": "arena.tasks.snapshots_refresh_all",
        "schedule": float(env_int("ARENA_SNAPSHOT_REFRESH_SECONDS", 3600, minimum=60)),
    },
}

# --- Live battles (issue #21): /battle/, streamed side by side over a WebSocket -------------------
# Live votes are battles of source "live"; on, they are also read as "human" battles.
ARENA_LIVE_AS_HUMAN = env_bool("ARENA_LIVE_AS_HUMAN", False)
# Pairing: a contender added less than ARENA_LIVE_NEW_DAYS ago has its weight multiplied by this.
ARENA_LIVE_NEW_BOOST = env_float("ARENA_LIVE_NEW_BOOST", 2.0, minimum=1.0)
ARENA_LIVE_NEW_DAYS = env_int("ARENA_LIVE_NEW_DAYS", 7, minimum=0)
# Limits per user and per address (0: no limit), the conversation's length and a prompt's length.
ARENA_LIVE_BATTLES_PER_HOUR = env_int("ARENA_LIVE_BATTLES_PER_HOUR", 30, minimum=0)
ARENA_LIVE_TOKENS_PER_DAY = env_int("ARENA_LIVE_TOKENS_PER_DAY", 200000, minimum=0)
ARENA_LIVE_MAX_TURNS = env_int("ARENA_LIVE_MAX_TURNS", 5, minimum=1)
ARENA_LIVE_MAX_PROMPT_CHARS = env_int("ARENA_LIVE_MAX_PROMPT_CHARS", 4000, minimum=1)
# Seconds an upstream answer may take in all (a slower one ends the battle for both sides).
ARENA_LIVE_TIMEOUT = env_float("ARENA_LIVE_TIMEOUT", 120.0, minimum=1.0)
# Text pieces after each side's first are sent to the page at most this often, several to a frame.
ARENA_LIVE_FLUSH_MS = env_int("ARENA_LIVE_FLUSH_MS", 100, minimum=0)
# A battle whose socket stopped beating this long ago (server restart) is marked abandoned.
ARENA_LIVE_STALE_SECONDS = env_int("ARENA_LIVE_STALE_SECONDS", 90, minimum=5)
# Optional moderation before a prompt is sent (an OpenAI-compatible /v1/moderations; off when empty).
ARENA_LIVE_MODERATION_URL = env_url("ARENA_LIVE_MODERATION_URL", "", schemes=("http", "https"))
ARENA_LIVE_MODERATION_MODEL = env_str("ARENA_LIVE_MODERATION_MODEL", "omni-moderation-latest")
ARENA_LIVE_MODERATION_KEY_ENV = env_str("ARENA_LIVE_MODERATION_KEY_ENV", "")

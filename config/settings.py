"""Django settings for the Neno SACCO C2B capture service.

Everything a deployment changes comes from the environment (see ``.env.example``); this module
only holds the defaults and the wiring. Unset ``DATABASE_URL`` means SQLite in the repository
root, the embedded default that lets ``make demo`` run with nothing installed.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_choice,
    env_decimal,
    env_int,
    env_list,
    env_networks,
    env_secret_tokens_check,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set the environment variable DJANGO_SECRET_KEY (or DJANGO_DEBUG=true for development)."
        )
    SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # The rooms, lowest first: each imports only those above it in this list
    # (docs/architecture.md).
    "c2b",
    "members",
    "sms",
    "capture",
    "reconciliation",
    "staff",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "staff.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

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

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web app and the workers read while one of them writes; IMMEDIATE takes the
    # write lock at BEGIN so concurrent writers queue on busy_timeout instead of failing.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The OAuth token must be shared by every process (a new token may invalidate the old one), so the
# default cache lives in the database every process already shares.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "django_cache",
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Africa/Nairobi"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = DEBUG

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
# A staff session lasts a working day, then the finance office signs in again.
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_SECONDS", 10 * 60 * 60)

# --- HTTP security (TLS terminates at the reverse proxy; see README "Running in production") ----
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0)

# Content-Security-Policy sent on every response (staff/middleware.py): the app's own assets only,
# no inline script, no framing. Override only to tighten it.
CONTENT_SECURITY_POLICY = env_str(
    "DJANGO_CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
)

# --- Staff web app (staff/) -------------------------------------------------------------------
# Failed sign-ins allowed per username and address before sign-in is refused for a while.
STAFF_LOGIN_MAX_FAILURES = env_int("STAFF_LOGIN_MAX_FAILURES", 5)
STAFF_LOGIN_LOCKOUT_MINUTES = env_int("STAFF_LOGIN_LOCKOUT_MINUTES", 15)
# Rows per transactions page, and how long the totals of one filtered set are reused.
STAFF_PAGE_SIZE = env_int("STAFF_PAGE_SIZE", 50)
STAFF_TOTALS_CACHE_SECONDS = env_int("STAFF_TOTALS_CACHE_SECONDS", 60)
# XLSX is built in full (about 3,500 rows a second) before its first byte is sent, so a proxy
# read timeout caps it; bigger sets must use the CSV export, which streams.
STAFF_XLSX_MAX_ROWS = env_int("STAFF_XLSX_MAX_ROWS", 100_000)
# The dashboard warns when a shortcode has had no payment for this many business-hour minutes.
STAFF_SILENCE_WARNING_MINUTES = env_int("STAFF_SILENCE_WARNING_MINUTES", 60)
_business_hours = env_str("STAFF_BUSINESS_HOURS", "08:00-18:00")
try:
    _opens, _closes = (time.fromisoformat(part.strip()) for part in _business_hours.split("-"))
except ValueError:
    raise ImproperlyConfigured(
        f"STAFF_BUSINESS_HOURS must look like 08:00-18:00 (EAT) (got {_business_hours!r})."
    ) from None
if _opens >= _closes:
    raise ImproperlyConfigured("STAFF_BUSINESS_HOURS must open before it closes (EAT, same day).")
STAFF_BUSINESS_HOURS = (_opens, _closes)
_WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_business_days = [day.lower()[:3] for day in env_list("STAFF_BUSINESS_DAYS", _WEEKDAYS[:6])]
if not set(_business_days) <= set(_WEEKDAYS):
    raise ImproperlyConfigured(
        f"STAFF_BUSINESS_DAYS must be days like mon,tue,...,sun (got {_business_days!r})."
    )
STAFF_BUSINESS_DAYS = sorted(_WEEKDAYS.index(day) for day in set(_business_days))

# --- C2B callbacks ---------------------------------------------------------------------------
# Tokens accepted in the callback path. Several may be listed (comma-separated) so a token can be
# rotated without downtime: add the new one, re-register URLs, then drop the old one.
C2B_CALLBACK_TOKENS = env_list("C2B_CALLBACK_TOKEN")
if not C2B_CALLBACK_TOKENS and not DEBUG:
    raise ImproperlyConfigured(
        "Set the environment variable C2B_CALLBACK_TOKEN: a long random string that goes in the "
        "callback URLs (python -c 'import secrets; print(secrets.token_hex(32))')."
    )
# The token is the callbacks' only secret (they are unsigned): a short one can be guessed.
SECRET_PATH_TOKEN_MIN_LENGTH = 32
if not DEBUG:
    env_secret_tokens_check("C2B_CALLBACK_TOKEN", C2B_CALLBACK_TOKENS, SECRET_PATH_TOKEN_MIN_LENGTH)
C2B_CALLBACK_BASE_URL = env_str("C2B_CALLBACK_BASE_URL", "http://127.0.0.1:8000")
# The largest callback body stored (413 beyond, nothing written); M-Pesa's are under 1 KiB. The
# proxy in front must allow at least this much (docs/operations.md: client_max_body_size).
C2B_MAX_BODY_BYTES = 64 * 1024
# The capture worker (manage.py capture_worker): confirmations per transaction while the backlog
# is young, and the most when capture has fallen behind; how long an idle worker waits before
# looking again (the most a payment waits after M-Pesa's callback when nothing else does).
C2B_CAPTURE_BATCH_SIZE = env_int("C2B_CAPTURE_BATCH_SIZE", 50)
C2B_CAPTURE_MAX_BATCH_SIZE = env_int("C2B_CAPTURE_MAX_BATCH_SIZE", 1000)
if not 1 <= C2B_CAPTURE_BATCH_SIZE <= C2B_CAPTURE_MAX_BATCH_SIZE:
    raise ImproperlyConfigured(
        "C2B_CAPTURE_BATCH_SIZE must be at least 1 and at most C2B_CAPTURE_MAX_BATCH_SIZE "
        f"(got {C2B_CAPTURE_BATCH_SIZE} and {C2B_CAPTURE_MAX_BATCH_SIZE})."
    )
C2B_CAPTURE_POLL_MS = env_int("C2B_CAPTURE_POLL_MS", 500)
# The worker's pacing (capture/pacing.py, docs/decisions.md #18): while the oldest confirmation
# waiting is younger than C2B_CAPTURE_RELAXED_SECONDS, a worker captures for at most
# C2B_CAPTURE_BUSY_PERCENT of its time and rests the remainder, so that a burst of callbacks is
# answered first; the older it is, the less it rests, and from C2B_CAPTURE_CATCH_UP_SECONDS on it
# never rests and its batches grow to C2B_CAPTURE_MAX_BATCH_SIZE.
C2B_CAPTURE_BUSY_PERCENT = env_int("C2B_CAPTURE_BUSY_PERCENT", 25)
if not 1 <= C2B_CAPTURE_BUSY_PERCENT <= 100:
    raise ImproperlyConfigured(
        f"C2B_CAPTURE_BUSY_PERCENT must be between 1 and 100 (got {C2B_CAPTURE_BUSY_PERCENT})."
    )
C2B_CAPTURE_RELAXED_SECONDS = env_int("C2B_CAPTURE_RELAXED_SECONDS", 2)
C2B_CAPTURE_CATCH_UP_SECONDS = env_int("C2B_CAPTURE_CATCH_UP_SECONDS", 5)
if not 0 <= C2B_CAPTURE_RELAXED_SECONDS <= C2B_CAPTURE_CATCH_UP_SECONDS:
    raise ImproperlyConfigured(
        "C2B_CAPTURE_RELAXED_SECONDS must be at least 0 and at most "
        f"C2B_CAPTURE_CATCH_UP_SECONDS (got {C2B_CAPTURE_RELAXED_SECONDS} and "
        f"{C2B_CAPTURE_CATCH_UP_SECONDS})."
    )

# Safaricom's published callback source addresses (../shared/daraja.md, "Callback sources").
SAFARICOM_CALLBACK_IPS = [
    "196.201.214.200",
    "196.201.214.206",
    "196.201.213.114",
    "196.201.214.207",
    "196.201.214.208",
    "196.201.213.44",
    "196.201.212.127",
    "196.201.212.138",
    "196.201.212.129",
    "196.201.212.136",
    "196.201.212.74",
    "196.201.212.69",
    "196.201.212.128",
    "196.201.212.132",
]
C2B_ALLOWED_IPS = env_networks("C2B_ALLOWED_IPS", ["*"] if DEBUG else SAFARICOM_CALLBACK_IPS)
# Reverse proxies in front of the app (addresses or networks). A request from one of them is
# believed to come from the single address in C2B_CLIENT_ADDRESS_HEADER, which the proxy must
# set (nginx: proxy_set_header X-Real-IP $remote_addr;). See core/network.py for why one
# address in a header the proxy sets, and not X-Forwarded-For.
C2B_TRUSTED_PROXIES = env_networks("C2B_TRUSTED_PROXIES", [])
C2B_CLIENT_ADDRESS_HEADER = env_str("C2B_CLIENT_ADDRESS_HEADER", "X-Real-IP")

# The shortcode that exists without anyone touching the admin (created on migrate if missing).
C2B_DEFAULT_SHORTCODE = env_str("C2B_DEFAULT_SHORTCODE")
C2B_DEFAULT_SHORTCODE_KIND = env_choice(
    "C2B_DEFAULT_SHORTCODE_KIND", {"paybill", "till"}, "paybill"
)
C2B_DEFAULT_ENVIRONMENT = env_choice(
    "C2B_DEFAULT_ENVIRONMENT", {"sandbox", "production"}, "sandbox"
)
C2B_DEFAULT_API_VERSION = env_choice("C2B_DEFAULT_API_VERSION", {"v1", "v2"}, "v2")
C2B_DEFAULT_RESPONSE_TYPE = env_choice(
    "C2B_DEFAULT_RESPONSE_TYPE", {"Completed", "Cancelled"}, "Completed"
)
C2B_DEFAULT_MIN_AMOUNT = env_decimal("C2B_DEFAULT_MIN_AMOUNT")
C2B_DEFAULT_MAX_AMOUNT = env_decimal("C2B_DEFAULT_MAX_AMOUNT")
C2B_DEFAULT_ACCOUNT_PATTERN = env_str("C2B_DEFAULT_ACCOUNT_PATTERN")

# --- Daraja ----------------------------------------------------------------------------------
DARAJA_BASE_URL = env_str("DARAJA_BASE_URL", "https://sandbox.safaricom.co.ke").rstrip("/")
DARAJA_CONSUMER_KEY = env_str("DARAJA_CONSUMER_KEY")
DARAJA_CONSUMER_SECRET = env_str("DARAJA_CONSUMER_SECRET")
DARAJA_TIMEOUT_SECONDS = env_int("DARAJA_TIMEOUT_SECONDS", 30)
# Transaction Status (verify_payment): the initiator (an API operator created in the M-Pesa
# Org portal) and its password, sent encrypted with M-Pesa's public certificate for the
# shortcode's environment. The certificates are downloaded from the Daraja portal (sandbox and
# production differ); they are not in this repository.
DARAJA_INITIATOR_NAME = env_str("DARAJA_INITIATOR_NAME")
DARAJA_INITIATOR_PASSWORD = env_str("DARAJA_INITIATOR_PASSWORD")
DARAJA_SANDBOX_CERTIFICATE = env_str("DARAJA_SANDBOX_CERTIFICATE")
DARAJA_PRODUCTION_CERTIFICATE = env_str("DARAJA_PRODUCTION_CERTIFICATE")
# Pull Transactions registration: the SACCO's phone (2547XXXXXXXX) Safaricom notifies.
DARAJA_PULL_NOMINATED_NUMBER = env_str("DARAJA_PULL_NOMINATED_NUMBER")
# The emulator and local development register http://127.0.0.1 callback URLs, which Safaricom
# refuses; this switch relaxes only the localhost rule, and never in production mode.
DARAJA_ALLOW_LOCAL_CALLBACKS = env_bool("DARAJA_ALLOW_LOCAL_CALLBACKS", DEBUG)

# --- Reconciliation with M-Pesa's records (reconciliation/) ---------------------------------
# Send SMS receipts for payments found by reconciliation (statement, Pull, Transaction Status)
# that the callback never brought, as for any payment. Off: they are recorded with their SMS
# row skipped (the member may have been told another way by then).
RECONCILE_SMS_RECEIPTS = env_bool("RECONCILE_SMS_RECEIPTS", True)
# The largest statement file the staff upload page accepts (a 100,000-line CSV is about 20 MB).
STATEMENT_UPLOAD_MAX_MB = env_int("STATEMENT_UPLOAD_MAX_MB", 50)

# --- Members and SMS receipts (members/, sms/) ------------------------------------------------
# Name the receipts are signed with ({{ sacco_name }} in templates/sms/payment_receipt.txt).
SMS_SACCO_NAME = env_str("SMS_SACCO_NAME", "Neno SACCO")
# Africa's Talking credentials; the username "sandbox" (with the sandbox app's key) sends to the
# simulator. The sender id is optional (the account's default when empty).
AFRICASTALKING_USERNAME = env_str("AFRICASTALKING_USERNAME")
AFRICASTALKING_API_KEY = env_str("AFRICASTALKING_API_KEY")
AFRICASTALKING_SENDER_ID = env_str("AFRICASTALKING_SENDER_ID")
# Where sms_worker sends: "africastalking", "console" (prints each SMS; the demo's phone) or
# "memory" (tests). "auto" means Africa's Talking when its API key is set, else the console.
SMS_BACKEND = env_choice("SMS_BACKEND", {"auto", "africastalking", "console", "memory"}, "auto")
if SMS_BACKEND == "auto":
    SMS_BACKEND = "africastalking" if AFRICASTALKING_API_KEY else "console"
# Temporary failures are retried after 30 s, 60 s, 120 s, ... (at most SMS_RETRY_MAX_SECONDS
# apart) until SMS_MAX_ATTEMPTS; then the message is failed and resend_sms --failed retries it.
SMS_MAX_ATTEMPTS = env_int("SMS_MAX_ATTEMPTS", 8)
SMS_RETRY_BASE_SECONDS = env_int("SMS_RETRY_BASE_SECONDS", 30)
SMS_RETRY_MAX_SECONDS = env_int("SMS_RETRY_MAX_SECONDS", 3600)
# A worker's claim on a message; past it the worker is presumed dead and another one sends it.
# Keep it far above the provider timeout (about 12 s).
SMS_LEASE_SECONDS = env_int("SMS_LEASE_SECONDS", 300)
SMS_WORKER_POLL_SECONDS = env_int("SMS_WORKER_POLL_SECONDS", 2)
# Tokens accepted in the delivery-report URL /api/v1/sms/<token>/delivery-report set in the
# Africa's Talking dashboard (comma-separated for rotation). Unset: the URL answers 404.
SMS_DELIVERY_REPORT_TOKENS = env_list("SMS_DELIVERY_REPORT_TOKEN")
if not DEBUG:
    env_secret_tokens_check(
        "SMS_DELIVERY_REPORT_TOKEN", SMS_DELIVERY_REPORT_TOKENS, SECRET_PATH_TOKEN_MIN_LENGTH
    )

# --- Logging: no secrets, no full phone numbers (log masked MSISDNs only) ---------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {"redact_tokens": {"()": "core.redaction.RedactCallbackTokens"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "core": {"level": LOG_LEVEL},
        "daraja": {"level": LOG_LEVEL},
        "c2b": {"level": LOG_LEVEL},
        "members": {"level": LOG_LEVEL},
        "sms": {"level": LOG_LEVEL},
        "capture": {"level": LOG_LEVEL},
        "reconciliation": {"level": LOG_LEVEL},
        "staff": {"level": LOG_LEVEL},
        # Django's own handlers know no redaction: runserver's request log goes to ours, and
        # errors are not mailed (the mail would carry the path, token and all).
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

"""Settings for the test suite: the real settings with the secrets a test run needs.

Tests run with DEBUG off, like production, so the variables production requires are given
defaults here rather than relaxed in ``config.settings``.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault(
    "C2B_CALLBACK_TOKEN", "test-callback-token-0123456789abcdef,old-rotated-token-0123456789abcdef0"
)
os.environ.setdefault("C2B_CALLBACK_BASE_URL", "https://capture.example.co.ke")
os.environ.setdefault("C2B_ALLOWED_IPS", "*")
os.environ.setdefault("DARAJA_BASE_URL", "https://daraja.test")
os.environ.setdefault("DARAJA_CONSUMER_KEY", "test-consumer-key")
os.environ.setdefault("DARAJA_CONSUMER_SECRET", "test-consumer-secret")

from config.settings import *  # noqa: F403

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Serve static files from the apps (no collectstatic run before tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

"""Who may see the staff pages, and how sign-in resists password guessing.

Every staff view is wrapped in ``staff_required``: anonymous visitors go to the sign-in page,
signed-in users without ``is_staff`` get 403. Failed sign-ins are counted per username and
client address in the shared cache (the database cache every process sees); past the limit the
form refuses even a correct password until the lockout has passed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, redirect_to_login
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse

from core.network import client_ip

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    """Anonymous → sign-in page (with ``next``); signed in but not staff → 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied("This page is for SACCO staff only.")
        return view(request, *args, **kwargs)

    return wrapper


class LoginThrottle:
    """Failed sign-in counter for one username from one address."""

    def __init__(self, username: str, address: str) -> None:
        digest = hashlib.sha256(f"{username.strip().casefold()}|{address}".encode()).hexdigest()
        self.key = f"staff:login-failures:{digest}"
        self.limit = settings.STAFF_LOGIN_MAX_FAILURES
        self.seconds = settings.STAFF_LOGIN_LOCKOUT_MINUTES * 60

    def locked(self) -> bool:
        return (cache.get(self.key) or 0) >= self.limit

    def failed(self) -> int:
        cache.add(self.key, 0, timeout=self.seconds)
        try:
            failures = cache.incr(self.key)
        except ValueError:  # expired between add and incr
            cache.set(self.key, 1, timeout=self.seconds)
            failures = 1
        # Each failure restarts the window, so a slow guesser stays locked out.
        cache.touch(self.key, timeout=self.seconds)
        return failures

    def reset(self) -> None:
        cache.delete(self.key)


class ThrottleMixin:
    request: HttpRequest | None
    cleaned_data: dict[str, Any]
    error_messages: dict[str, str]

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        address = client_ip(self.request) if self.request is not None else ""
        throttle = LoginThrottle(username, address)
        if throttle.locked():
            logger.warning("Sign-in refused (too many failures) for %r from %s", username, address)
            raise ValidationError(
                "Too many failed sign-in attempts for this username from your address. "
                "Wait %(minutes)d minutes and try again, or ask an administrator to reset "
                "your password.",
                code="throttled",
                params={"minutes": settings.STAFF_LOGIN_LOCKOUT_MINUTES},
            )
        try:
            cleaned = super().clean()  # type: ignore[misc]
        except ValidationError:
            throttle.failed()
            raise
        throttle.reset()
        return cleaned


class ThrottledAuthenticationForm(ThrottleMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottleMixin, AdminAuthenticationForm):
    pass


class ThrottledLoginView(LoginView):
    authentication_form = ThrottledAuthenticationForm
    template_name = "registration/login.html"

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "throttled"):
            response.status_code = 429
        return response

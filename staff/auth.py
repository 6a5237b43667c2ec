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
    """Password checks for one username from one address, counted atomically.

    Each check first takes one of ``STAFF_LOGIN_MAX_FAILURES`` slots with ``cache.add``, which
    the shared database cache makes atomic (an INSERT on its primary key): ten guesses arriving
    at once take five slots and five refusals, never six password checks. A failed check keeps
    its slot for the lockout; a successful one frees them all."""

    def __init__(self, username: str, address: str) -> None:
        digest = hashlib.sha256(f"{username.strip().casefold()}|{address}".encode()).hexdigest()
        self.key = f"staff:login-attempts:{digest}"
        self.limit = settings.STAFF_LOGIN_MAX_FAILURES
        self.seconds = settings.STAFF_LOGIN_LOCKOUT_MINUTES * 60

    def _slots(self) -> list[str]:
        return [f"{self.key}:{n}" for n in range(self.limit)]

    def take(self) -> bool:
        """Take a slot for one password check; ``False`` means locked out (each such attempt
        restarts the lockout, so a slow guesser stays out)."""
        if any(cache.add(slot, 1, timeout=self.seconds) for slot in self._slots()):
            return True
        for slot in self._slots():
            cache.touch(slot, timeout=self.seconds)
        return False

    def reset(self) -> None:
        cache.delete_many(self._slots())


class ThrottleMixin:
    request: HttpRequest | None
    cleaned_data: dict[str, Any]
    error_messages: dict[str, str]

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        address = client_ip(self.request) if self.request is not None else ""
        throttle = LoginThrottle(username, address)
        if not throttle.take():
            logger.warning("Sign-in refused (too many failures) for %r from %s", username, address)
            raise ValidationError(
                "Too many failed sign-in attempts for this username from your address. "
                "Wait %(minutes)d minutes and try again, or ask an administrator to reset "
                "your password.",
                code="throttled",
                params={"minutes": settings.STAFF_LOGIN_LOCKOUT_MINUTES},
            )
        cleaned = super().clean()  # type: ignore[misc]  # raises when the password is wrong
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

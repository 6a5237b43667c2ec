from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path

from staff.auth import ThrottledAdminAuthenticationForm, ThrottledLoginView

# The admin's sign-in counts failures in the same place as the staff sign-in.
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path("", include("c2b.urls")),
    path("", include("capture.urls")),
    path("", include("reconciliation.urls")),
    path("", include("sms.urls")),
    path("admin/", admin.site.urls),
    # Sign in and out only. No self-service password reset: it would need outgoing mail and
    # another throttled door; an administrator resets a password in the admin (or with
    # manage.py changepassword), and staff change their own at /admin/password_change/.
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("", include("staff.urls")),
]

from django.contrib import admin
from django.urls import include, path

from staff.auth import ThrottledAdminAuthenticationForm, ThrottledLoginView

# The admin's sign-in counts failures in the same place as the staff sign-in.
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path("", include("c2b.urls")),
    path("", include("capture.urls")),
    path("", include("sms.urls")),
    path("admin/", admin.site.urls),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("staff.urls")),
]

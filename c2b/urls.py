from django.urls import re_path

from c2b import views

app_name = "c2b"

urlpatterns = [
    # Trailing slash or not: M-Pesa calls exactly what was registered, people type either.
    re_path(
        r"^api/v1/c2b/(?P<token>[^/]+)/(?P<kind>validation|confirmation)/?$",
        views.c2b_callback,
        name="callback",
    ),
]

from django.urls import re_path

from reconciliation import views

app_name = "reconciliation"

urlpatterns = [
    re_path(
        r"^api/v1/daraja/(?P<token>[^/]+)/(?P<kind>status-result|status-timeout|pull-callback)/?$",
        views.daraja_result,
        name="daraja-result",
    ),
]

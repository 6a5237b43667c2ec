from django.urls import re_path

from capture import views

app_name = "capture"

urlpatterns = [
    re_path(r"^healthz/?$", views.healthz, name="healthz"),
]

"""The project's URLs plus the delivery-report URL, until config/urls.py includes sms.urls."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("", include("sms.urls"))]

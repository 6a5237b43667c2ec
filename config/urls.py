from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("c2b.urls")),
    path("admin/", admin.site.urls),
]

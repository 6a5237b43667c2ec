from django.urls import path

from bench.baseline import views

urlpatterns = [path("api/v1/c2b/<str:token>/confirmation", views.confirmation)]

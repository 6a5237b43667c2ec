from django.urls import re_path

from sms import views

app_name = "sms"

urlpatterns = [
    re_path(
        r"^api/v1/sms/(?P<token>[^/]+)/delivery-report/?$",
        views.delivery_report,
        name="delivery-report",
    ),
]

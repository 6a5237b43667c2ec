from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "sms"
    verbose_name = "SMS receipts"

    def ready(self) -> None:
        from sms import checks  # noqa: F401  (registers system checks)

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


class C2BConfig(AppConfig):
    name = "c2b"
    verbose_name = "M-Pesa C2B capture"

    def ready(self) -> None:
        from c2b import checks  # noqa: F401  (registers system checks)
        from c2b.selectors import known_shortcodes_forget
        from c2b.services.shortcodes import shortcode_ensure_default

        def _ensure_default(sender, **kwargs):
            shortcode_ensure_default()

        post_migrate.connect(_ensure_default, sender=self, dispatch_uid="c2b-default-shortcode")
        shortcode = self.get_model("Shortcode")
        for signal in (post_save, post_delete):
            signal.connect(known_shortcodes_forget, sender=shortcode, dispatch_uid="c2b-known")

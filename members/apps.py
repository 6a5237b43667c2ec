from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "SACCO members"

    def ready(self) -> None:
        from c2b.services.validation_rules import validation_rule_register
        from members.validation import account_is_active_member

        validation_rule_register(account_is_active_member)

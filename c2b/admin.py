from django.contrib import admin, messages

from c2b.models import Payment, Shortcode, ValidationDecision
from c2b.services.shortcodes import shortcode_register_urls
from daraja.errors import CallbackURLRejected, DarajaError


class ReadOnlyAdmin(admin.ModelAdmin):
    """What M-Pesa sent is evidence: staff may look, never edit or delete."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Shortcode)
class ShortcodeAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "name",
        "kind",
        "environment",
        "api_version",
        "response_type",
        "enabled",
        "registered_at",
    ]
    list_filter = ["enabled", "kind", "environment"]
    search_fields = ["number", "name"]
    readonly_fields = ["registered_at", "registration_result", "created_at", "updated_at"]
    actions = ["register_urls"]

    @admin.action(description="Register callback URLs with Daraja")
    def register_urls(self, request, queryset):
        for shortcode in queryset:
            try:
                shortcode_register_urls(shortcode=shortcode)
            except (CallbackURLRejected, DarajaError) as exc:
                self.message_user(request, f"{shortcode.number}: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{shortcode.number}: URLs registered.", messages.SUCCESS
                )


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "trans_id",
        "trans_time",
        "amount",
        "business_short_code",
        "bill_ref_number",
        "payer_name",
        "msisdn",
    ]
    search_fields = ["=trans_id", "bill_ref_number", "msisdn", "first_name", "last_name"]
    list_filter = ["shortcode", "transaction_type", "source"]
    date_hierarchy = "trans_time"
    show_full_result_count = False


@admin.register(ValidationDecision)
class ValidationDecisionAdmin(ReadOnlyAdmin):
    list_display = [
        "trans_id",
        "decided_at",
        "accepted",
        "result_code",
        "business_short_code",
        "amount",
        "bill_ref_number",
        "reason",
    ]
    list_filter = ["accepted", "result_code"]
    search_fields = ["=trans_id", "bill_ref_number"]

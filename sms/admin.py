from django.contrib import admin, messages

from core.phones import phone_mask
from sms.models import DeliveryReport, OutboundSms
from sms.services import sms_requeue


@admin.register(OutboundSms)
class OutboundSmsAdmin(admin.ModelAdmin):
    list_display = [
        "payment",
        "status",
        "masked_recipient",
        "recipient_source",
        "attempts",
        "reason",
        "created_at",
        "sent_at",
    ]
    list_filter = ["status", "recipient_source", "backend"]
    search_fields = ["=payment__trans_id", "=member__number", "=provider_message_id"]
    list_select_related = ["payment"]
    exclude = ["recipient"]
    readonly_fields = [f.name for f in OutboundSms._meta.fields if f.name != "recipient"] + [
        "masked_recipient"
    ]
    actions = ["resend"]
    show_full_result_count = False

    @admin.display(description="Recipient")
    def masked_recipient(self, obj):
        return phone_mask(obj.recipient) or "—"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Send selected failed/undelivered/skipped SMS again")
    def resend(self, request, queryset):
        count = sms_requeue(messages=queryset)
        self.message_user(request, f"{count} SMS queued again.", messages.SUCCESS)


@admin.register(DeliveryReport)
class DeliveryReportAdmin(admin.ModelAdmin):
    list_display = [
        "provider_message_id",
        "status",
        "failure_reason",
        "phone_masked",
        "received_at",
    ]
    list_filter = ["status"]
    search_fields = ["=provider_message_id"]
    readonly_fields = [f.name for f in DeliveryReport._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

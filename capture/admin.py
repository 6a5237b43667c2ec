"""The capture inbox in the admin: every callback as received, and reprocessing after a fix.

The receipts are ``c2b`` rows, but turning them into payments is this room's job, so their admin
(with the reprocess action) lives here.
"""

from django.contrib import admin
from django.utils.html import format_html

from c2b.admin import ReadOnlyAdmin
from c2b.models import CallbackReceipt
from capture.services import callback_receipts_reprocess


@admin.register(CallbackReceipt)
class CallbackReceiptAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "status", "trans_id", "received_at", "source_ip", "error"]
    list_filter = ["status", "kind"]
    search_fields = ["=trans_id"]
    exclude = ["body"]
    readonly_fields = ["raw_body"]
    actions = ["reprocess"]
    show_full_result_count = False

    @admin.display(description="Body as received")
    def raw_body(self, obj):
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", obj.body_text)

    @admin.action(description="Reprocess selected confirmations", permissions=["view"])
    def reprocess(self, request, queryset):
        results = callback_receipts_reprocess(receipts=queryset)
        summary = ", ".join(f"{n} {status}" for status, n in sorted(results.items())) or "nothing"
        self.message_user(request, f"Reprocessed: {summary}.")

"""M-Pesa's records as imported and what reconciliation found: evidence, so read-only."""

from django.contrib import admin
from django.utils.html import format_html

from c2b.admin import ReadOnlyAdmin
from reconciliation.models import (
    DarajaResult,
    PullSweep,
    ReconciliationItem,
    ReconciliationRun,
    StatementEntry,
    StatementImport,
    StatusCheck,
)


@admin.register(StatementImport)
class StatementImportAdmin(ReadOnlyAdmin):
    list_display = ["id", "shortcode", "period_start", "period_end", "lines", "proven", "forced"]
    list_filter = ["shortcode", "proven", "forced"]


@admin.register(StatementEntry)
class StatementEntryAdmin(ReadOnlyAdmin):
    list_display = ["receipt", "kind", "status", "completed_at", "paid_in", "withdrawn", "account"]
    list_filter = ["kind", "completed", "shortcode"]
    search_fields = ["=receipt", "=linked_receipt", "account"]
    show_full_result_count = False


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "started_at", "shortcode", "backfill", "status", "counts"]


@admin.register(ReconciliationItem)
class ReconciliationItemAdmin(ReadOnlyAdmin):
    list_display = ["trans_id", "outcome", "run", "trans_time", "reviewed_at", "note"]
    list_filter = ["outcome", ("reviewed_at", admin.EmptyFieldListFilter)]
    search_fields = ["=trans_id"]
    show_full_result_count = False


@admin.register(PullSweep)
class PullSweepAdmin(ReadOnlyAdmin):
    list_display = ["shortcode", "started_at", "records", "known", "backfilled", "warning", "error"]
    list_filter = ["shortcode"]


@admin.register(StatusCheck)
class StatusCheckAdmin(ReadOnlyAdmin):
    list_display = ["trans_id", "verdict", "requested_at", "requested_by", "detail"]
    list_filter = ["verdict"]
    search_fields = ["=trans_id"]


@admin.register(DarajaResult)
class DarajaResultAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "status", "received_at", "error"]
    list_filter = ["kind", "status"]
    exclude = ["body"]
    readonly_fields = ["raw_body"]

    @admin.display(description="Body as received")
    def raw_body(self, obj):
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", obj.body_text)

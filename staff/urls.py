from django.urls import path, re_path

from staff import reconciliation, views

app_name = "staff"

# These addresses are bookmarked by staff: keep them stable.
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("transactions/", views.transaction_list, name="transactions"),
    path("transactions/export.csv", views.export_csv, name="export_csv"),
    path("transactions/export.xlsx", views.export_xlsx, name="export_xlsx"),
    re_path(
        r"^transactions/(?P<trans_id>[A-Za-z0-9]{1,32})/$",
        views.transaction_detail,
        name="transaction",
    ),
    path("attention/", views.attention, name="attention"),
    path(
        "attention/receipts/<int:receipt_id>/reprocess/",
        views.receipt_reprocess,
        name="receipt_reprocess",
    ),
    path("attention/sms/<int:sms_id>/resend/", views.sms_resend, name="sms_resend"),
    path("reconciliation/", reconciliation.overview, name="reconciliation"),
    path(
        "reconciliation/statements/",
        reconciliation.statement_upload,
        name="reconciliation_upload",
    ),
    path("reconciliation/runs/", reconciliation.run_start, name="reconciliation_start"),
    path(
        "reconciliation/runs/<int:run_id>/",
        reconciliation.run_detail,
        name="reconciliation_run",
    ),
    path(
        "reconciliation/runs/<int:run_id>/report.csv",
        reconciliation.run_report,
        name="reconciliation_report",
    ),
    path(
        "reconciliation/findings/<int:item_id>/review/",
        reconciliation.item_reviewed,
        name="reconciliation_review",
    ),
    path("reconciliation/verify/", reconciliation.verify, name="reconciliation_verify"),
]

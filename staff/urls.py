from django.urls import path, re_path

from staff import views

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
]

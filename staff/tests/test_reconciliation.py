"""The Reconciliation pages, the findings on the attention page, verdicts on payments."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from c2b.models import Payment
from factories import statement_csv
from reconciliation.importing import statement_import
from reconciliation.matching import reconciliation_run
from reconciliation.models import ReconciliationItem, ReconciliationRun, StatementImport

pytestmark = pytest.mark.django_db

LINES = [
    {"receipt": "TKLOST0001", "at": "2026-11-27 09:00:00", "amount": "1500.00"},
    {"receipt": "TKMATCH001", "at": "2026-11-27 10:00:00", "amount": "1500.00"},
]


@pytest.fixture
def findings(main_paybill, make_payment):
    make_payment(trans_id="TKMATCH001", at="2026-11-27 10:00:00")
    make_payment(trans_id="TKFORGED01", at="2026-11-27 11:00:00")
    statement_import(data=statement_csv(LINES), filename="nov.csv")
    return reconciliation_run()


def upload(staff_client, data, **fields):
    file = SimpleUploadedFile("statement.csv", data, content_type="text/csv")
    return staff_client.post("/reconciliation/statements/", {"file": file, **fields}, follow=True)


def test_a_statement_uploaded_by_staff_is_imported_and_listed(staff_client, main_paybill):
    response = upload(staff_client, statement_csv(LINES))
    page = response.content.decode()
    assert "Statement for 600984 imported: 2 lines, 2 new. It adds up." in page
    assert "statement.csv" in page
    assert StatementImport.objects.get().imported_by == "wanjiku"


def test_a_statement_that_does_not_add_up_is_refused_on_the_page(staff_client, main_paybill):
    edited = statement_csv(LINES).decode().replace("TKLOST0001", "TKLOST0002").encode()
    edited = b"\r\n".join(line for line in edited.split(b"\r\n") if b"TKMATCH001" not in line)
    page = upload(staff_client, edited).content.decode()
    assert "does not add up" in page
    assert not StatementImport.objects.exists()
    upload(staff_client, edited, force="on")
    assert StatementImport.objects.get().forced


def test_a_file_that_is_not_a_statement_is_refused_on_the_page(staff_client, main_paybill):
    page = upload(staff_client, b"hello,world\n").content.decode()
    assert "Receipt No" in page
    assert not StatementImport.objects.exists()


def test_staff_run_a_reconciliation_and_see_each_outcome_with_its_shillings(
    staff_client, main_paybill, make_payment
):
    make_payment(trans_id="TKMATCH001", at="2026-11-27 10:00:00")
    statement_import(data=statement_csv(LINES), filename="nov.csv")

    response = staff_client.post("/reconciliation/runs/", {"backfill": "on"}, follow=True)

    run = ReconciliationRun.objects.get()
    assert response.redirect_chain[-1][0] == f"/reconciliation/runs/{run.pk}/"
    page = response.content.decode()
    assert "Backfilled: was missing, stored by this run" in page and "TKLOST0001" in page
    assert Payment.objects.get(trans_id="TKLOST0001").source == "statement"
    matched = staff_client.get(f"/reconciliation/runs/{run.pk}/?outcome=matched").content
    assert b"TKMATCH001" in matched and b"TKLOST0001" not in matched


def test_the_report_downloads_as_csv(staff_client, findings):
    response = staff_client.get(f"/reconciliation/runs/{findings.pk}/report.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:2] == ["Outcome", "TransID"]
    assert {row[1]: row[0] for row in rows[1:]} == {
        "TKLOST0001": "missing",
        "TKMATCH001": "matched",
        "TKFORGED01": "unconfirmed",
    }


def test_findings_are_on_the_attention_page_until_reviewed_with_a_note(staff_client, findings):
    page = staff_client.get("/attention/").content.decode()
    assert "TKLOST0001" in page and "TKFORGED01" in page
    item = ReconciliationItem.objects.get(trans_id="TKFORGED01")

    refused = staff_client.post(f"/reconciliation/findings/{item.pk}/review/", {"note": " "})
    assert refused.status_code == 302
    item.refresh_from_db()
    assert item.reviewed_at is None

    staff_client.post(
        f"/reconciliation/findings/{item.pk}/review/", {"note": "Member showed the SMS"}
    )
    item.refresh_from_db()
    assert (item.reviewed_by, item.review_note) == ("wanjiku", "Member showed the SMS")
    page = staff_client.get("/attention/").content.decode()
    assert "TKFORGED01" not in page.split('id="reconciliation"')[1].split("</section>")[0]


def test_a_finding_a_later_run_resolved_leaves_the_attention_page(staff_client, findings):
    reconciliation_run(backfill=True)
    section = staff_client.get("/attention/").content.decode().split('id="reconciliation"')[1]
    assert "TKLOST0001" not in section.split("</section>")[0]


def test_a_payment_shows_its_source_and_what_m_pesas_records_say(staff_client, findings):
    page = staff_client.get("/transactions/TKFORGED01/").content.decode()
    assert "M-Pesa confirmation callback" in page
    assert "Unconfirmed: captured, not in the statement" in page
    assert "Check with M-Pesa" in page


def test_a_receipt_only_the_statement_knows_has_a_page(staff_client, findings):
    page = staff_client.get("/transactions/TKLOST0001/").content.decode()
    assert "No payment stored" in page
    assert "Missing: in the statement, never captured" in page


def test_the_dashboard_shows_the_last_reconciliation_and_days_not_reconciled(
    staff_client, findings
):
    page = staff_client.get("/").content.decode()
    section = page.split('id="reconciliation"')[1].split("</section>")[0]
    assert "1 missing" in section and "1 unconfirmed" in section


def test_asking_m_pesa_without_an_initiator_says_what_to_set(staff_client, findings, settings):
    settings.DARAJA_INITIATOR_NAME = ""
    response = staff_client.post(
        "/reconciliation/verify/",
        {"trans_id": "TKFORGED01", "shortcode": "600984", "next": "/transactions/TKFORGED01/"},
        follow=True,
    )
    assert "DARAJA_INITIATOR_NAME" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    ["/reconciliation/", "/reconciliation/runs/1/", "/reconciliation/runs/1/report.csv"],
)
def test_reconciliation_pages_are_for_staff_only(client, member_user, url):
    assert client.get(url).status_code == 302
    client.force_login(member_user)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize(
    "url",
    ["/reconciliation/statements/", "/reconciliation/runs/", "/reconciliation/verify/"],
)
def test_reconciliation_actions_refuse_non_staff_and_change_nothing(client, member_user, url):
    client.force_login(member_user)
    assert client.post(url).status_code == 403
    assert not ReconciliationRun.objects.exists()
    assert not StatementImport.objects.exists()

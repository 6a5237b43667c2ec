"""Importing Org-portal statements: proven, kept once, refused when they do not add up."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from factories import statement_csv
from reconciliation.importing import StatementRefused, statement_import
from reconciliation.models import StatementEntry, StatementImport

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "statements" / "tests" / "fixtures"
LINES = [
    {"receipt": "TKA0000001", "at": "2026-11-27 09:00:00", "amount": "1500.00"},
    {"receipt": "TKA0000001", "at": "2026-11-27 09:00:00", "amount": "15.00", "kind": "charge"},
    {"receipt": "TKA0000002", "at": "2026-11-27 10:00:00", "amount": "250.00", "account": "NS2"},
    {"receipt": "TKA0000003", "at": "2026-11-27 11:00:00", "amount": "70.00", "status": "Failed"},
]


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_statement_that_adds_up_is_imported_with_every_line_kept_raw(paybill):
    report = statement_import(data=statement_csv(LINES), filename="nov.csv")

    statement = report.statement
    assert (statement.proven, statement.forced, statement.covers) == (True, False, True)
    assert statement.shortcode == paybill
    assert (report.lines, report.new_lines) == (4, 4)
    kinds = sorted(StatementEntry.objects.values_list("receipt", "kind", "completed"))
    assert kinds == [
        ("TKA0000001", "charge", True),
        ("TKA0000001", "payment", True),
        ("TKA0000002", "payment", True),
        ("TKA0000003", "payment", False),
    ]
    entry = StatementEntry.objects.get(receipt="TKA0000002")
    assert entry.account == "NS2"
    assert entry.raw[0] == "TKA0000002"


def test_importing_the_same_file_twice_changes_nothing_and_says_so(paybill, tmp_path):
    data = statement_csv(LINES)
    first = statement_import(data=data, filename="nov.csv")
    again = statement_import(data=data, filename="nov-copy.csv")

    assert again.already_imported and again.statement == first.statement
    assert StatementImport.objects.count() == 1
    assert StatementEntry.objects.count() == 4
    path = tmp_path / "nov.csv"
    path.write_bytes(data)
    out, _ = run("import_statement", str(path))
    assert "Already imported" in out and "nothing changed" in out


def test_overlapping_statements_keep_each_line_once(paybill):
    statement_import(data=statement_csv(LINES[:3]), filename="a.csv")
    report = statement_import(data=statement_csv(LINES), filename="b.csv")
    assert (report.lines, report.new_lines, report.known_lines) == (4, 1, 3)
    assert StatementEntry.objects.count() == 4


def test_a_statement_with_a_row_deleted_is_refused_naming_the_difference(paybill):
    text = statement_csv(LINES).decode()
    edited = "\r\n".join(line for line in text.split("\r\n") if "NS2" not in line).encode()

    with pytest.raises(StatementRefused) as refused:
        statement_import(data=edited, filename="edited.csv")
    assert "does not add up" in refused.value.reasons[0]
    assert any("250.00" in reason for reason in refused.value.reasons)
    assert not StatementImport.objects.exists()
    assert not StatementEntry.objects.exists()


def test_a_statement_that_does_not_add_up_can_be_forced_and_never_covers_a_day(paybill):
    text = statement_csv(LINES).decode().replace("250.00", "2,500.00", 1)
    report = statement_import(data=text.encode(), filename="edited.csv", force=True)
    statement = report.statement
    assert (statement.proven, statement.forced, statement.covers) == (False, True, False)
    assert statement.proof["discrepancies"]


def test_a_row_that_cannot_be_read_is_reported_and_the_rest_imported(paybill):
    text = statement_csv(LINES, totals=False).decode()
    broken = text.replace("27-11-2026 10:00:00", "the 27th", 1).encode()

    report = statement_import(data=broken, filename="broken.csv")

    assert [p["row"] for p in report.problems] == [report.problems[0]["row"]]
    assert "Completion Time" in report.problems[0]["reason"]
    assert report.lines == 3
    assert report.statement.covers is False  # a row may be missing from what was read


def test_a_file_that_is_not_a_statement_is_refused_naming_what_is_missing(paybill):
    with pytest.raises(StatementRefused, match="Receipt No"):
        statement_import(data=b"name,phone\nJohn,0712345678\n", filename="members.csv")
    assert not StatementImport.objects.exists()


def test_a_statement_for_a_shortcode_that_is_not_ours_is_refused(paybill):
    with pytest.raises(StatementRefused, match="999999, which is not one of ours"):
        statement_import(data=statement_csv(LINES, shortcode="999999"), filename="x.csv")


def test_a_given_shortcode_that_contradicts_the_file_is_refused(paybill):
    with pytest.raises(StatementRefused, match="is for shortcode 600984, not 600638"):
        statement_import(data=statement_csv(LINES), filename="x.csv", shortcode="600638")


def test_a_statement_that_names_no_shortcode_takes_the_one_its_receipts_were_paid_to(
    paybill, make_payment, make_shortcode
):
    make_payment(trans_id="TKA0000001", shortcode=make_shortcode("600100"))
    text = statement_csv(LINES).decode().replace("Short Code:,600984\r\n", "")
    report = statement_import(data=text.encode(), filename="x.csv")
    assert report.statement.shortcode.number == "600100"


def test_the_command_reads_xlsx_and_xls_too(paybill):
    for name in ("real_numbers_datetimes.xlsx", "excel97_unmasked.xls"):
        out, _ = run("import_statement", str(FIXTURES / name), "--shortcode", "600984", "--force")
        assert "Imported statement #" in out


def test_the_command_refuses_with_a_non_zero_exit_and_the_reasons(paybill, tmp_path):
    path = tmp_path / "not.csv"
    path.write_text("hello\n")
    with pytest.raises(CommandError, match="Receipt No"):
        run("import_statement", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_statement", str(tmp_path / "absent.csv"))

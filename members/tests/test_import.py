"""import_members: create or update by member number, report every rejected row and why."""

import io
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from core.phones import phone_hash
from members.models import Member, MemberPhone
from members.services import ImportFileError, members_import, members_import_file

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo_members.csv"


def run(text: str, **kwargs):
    return members_import(stream=io.StringIO(text), **kwargs)


def test_new_members_are_created_with_normalised_numbers_and_hashed_phones():
    report = run(
        "member_number,name,phone,status\n"
        " ns 0001 ,John  Kamau,0712 345 678;+254 711 000 111,\n"
        "NS0002,Mary Wanjiru,,dormant\n"
    )
    assert (report.created, report.updated, report.rejected) == (2, 0, [])
    john = Member.objects.get(number="NS0001")
    assert john.name == "John Kamau"
    assert john.status == Member.Status.ACTIVE
    assert [(p.number, p.position) for p in john.phones.all()] == [
        ("254712345678", 0),
        ("254711000111", 1),
    ]
    assert john.phones.first().sha256 == phone_hash("254712345678")
    assert Member.objects.get(number="NS0002").status == Member.Status.DORMANT


def test_existing_members_are_updated_by_member_number_and_their_phones_replaced():
    run("member_number,name,phone\nNS0001,John Kamau,0712345678\nNS0002,Mary,0722000000\n")
    report = run(
        "member_number,name,phone,status\n"
        "ns0001,John K. Kamau,0799000001,suspended\n"
        "NS0002,Mary,0722000000,active\n"
        "NS0003,New Member,,\n"
    )
    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    john = Member.objects.get(number="NS0001")
    assert (john.name, john.status) == ("John K. Kamau", "suspended")
    assert list(john.phones.values_list("number", flat=True)) == ["254799000001"]
    assert MemberPhone.objects.filter(number="254712345678").count() == 0


def test_only_a_phone_change_counts_as_an_update():
    run("member_number,name,phone\nNS0001,John,0712345678\n")
    report = run("member_number,name,phone\nNS0001,John,0712345679\n")
    assert report.updated == 1
    assert Member.objects.get().phones.get().number == "254712345679"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",John,0712345678,", "member number is empty"),
        ("NS" + "9" * 19 + ",John,,", "member number longer than 20"),
        ("NS1,,0712345678,", "name is empty"),
        ("NS1," + "x" * 151 + ",,", "name longer than 150 characters"),
        ("NS1,John,0201234567,", "phone '0201***567' is not a Kenyan mobile number"),
        ("NS1,John,,retired", "status 'retired' is not one of active, dormant, suspended, exited"),
    ],
)
def test_bad_rows_are_rejected_with_line_number_and_reason_and_the_rest_imported(row, reason):
    report = run(f"member_number,name,phone,status\nNS0,Good Row,,\n\n{row}\n")
    assert report.created == 1
    [rejected] = report.rejected
    assert rejected.line == 4
    assert rejected.reason == reason


def test_member_number_repeated_in_the_file_is_rejected_after_its_first_line():
    report = run("member_number,name\nNS1,First\nns 1,Second\n")
    assert Member.objects.get().name == "First"
    assert [(r.line, r.reason) for r in report.rejected] == [(3, "member number repeats line 2")]


def test_dry_run_checks_everything_and_writes_nothing():
    report = run("member_number,name\nNS1,First\n", dry_run=True)
    assert report.created == 1
    assert Member.objects.count() == 0


def test_headers_are_case_insensitive_and_excel_bom_is_ignored(tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes("\ufeffMember Number,NAME,Phones\nNS1,A B,0712345678\n".encode())
    assert members_import_file(path=path).created == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"id,phone\n1,0712345678\n", "Missing column(s): member_number, name."),
        (b"member_number,name\nNS1,J\xe9r\xf4me\n", "is not UTF-8 text"),
    ],
)
def test_a_file_that_cannot_be_imported_says_why(tmp_path, content, message):
    path = tmp_path / "m.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        members_import_file(path=path)


def test_command_reports_created_updated_and_rejected_rows(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("member_number,name,phone\nNS1,A,0712345678\nNS2,,\n")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_members", str(path), stdout=out, stderr=err)
    assert "Imported 2 rows" in out.getvalue()
    assert "1 created, 0 updated, 0 unchanged, 1 rejected." in out.getvalue()
    assert "line 3: rejected NS2: name is empty" in err.getvalue()


def test_command_refuses_a_missing_file_and_a_bad_header(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_members", str(tmp_path / "nope.csv"))
    path = tmp_path / "m.csv"
    path.write_text("a,b\n")
    with pytest.raises(CommandError, match="Missing column"):
        call_command("import_members", str(path))


def test_demo_members_file_imports_cleanly():
    report = members_import_file(path=DEMO)
    assert report.rejected == []
    assert 10 <= report.created <= 20
    assert Member.objects.filter(number="NS0001", phones__isnull=False).exists()


def test_thousands_of_rows_import_in_batches_quickly():
    rows = "".join(f"NS{i:06d},Member {i},07{i:08d}\n" for i in range(5000))
    started = time.monotonic()
    report = run("member_number,name,phone\n" + rows)
    assert report.created == 5000
    assert MemberPhone.objects.count() == 5000
    assert time.monotonic() - started < 10
    again = run("member_number,name,phone\n" + rows.replace("Member 1,", "Renamed 1,"))
    assert again.updated == 1 and again.unchanged == 4999


def test_progress_is_reported_while_reading_and_while_writing():
    calls = []
    run("member_number,name\nNS1,A\nNS2,B\n,C\n", progress=lambda *a: calls.append(a))
    assert calls == [("Reading", 1, 0)] * 3 + [("Writing", 2, 2)]


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_command_shows_a_progress_bar_on_a_terminal(tmp_path, monkeypatch):
    path = tmp_path / "m.csv"
    path.write_text("member_number,name\nNS1,A\nNS2,B\n")
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stderr", terminal)
    call_command("import_members", str(path), stdout=io.StringIO())
    assert "Reading" in terminal.getvalue()
    assert "Writing" in terminal.getvalue()
    assert "2/2" in terminal.getvalue()

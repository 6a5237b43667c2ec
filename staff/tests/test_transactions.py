"""The transactions list: search, filters, totals and pages that stay cheap when deep."""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import override_settings

from staff.selectors import Cursor

pytestmark = pytest.mark.django_db


def receipts(response) -> list[str]:
    return [payment.trans_id for payment in response.context["page"].rows]


def test_it_lists_payments_newest_first_in_eat(staff_client, make_payment):
    make_payment(at="2026-11-27 09:00:00", trans_id="TKAAAAAAA1")
    make_payment(at="2026-11-27 14:30:15", trans_id="TKAAAAAAA2")
    response = staff_client.get("/transactions/")
    assert receipts(response) == ["TKAAAAAAA2", "TKAAAAAAA1"]
    assert b"2026-11-27 14:30:15" in response.content  # EAT, as M-Pesa sent it


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("TKAAAAAAA1", ["TKAAAAAAA1"]),  # receipt
        ("tkaaaaaaa1", ["TKAAAAAAA1"]),  # receipt typed in lower case
        ("NS 00123", ["TKAAAAAAA1"]),  # account as typed
        ("ns 001", ["TKAAAAAAA1"]),  # account prefix, any case
        ("2547 ***** 126", ["TKAAAAAAA1"]),  # MSISDN as received (masked)
        ("grace", ["TKAAAAAAA2"]),  # payer name, any case
        ("Grace Achieng", ["TKAAAAAAA2"]),  # every word in some name
        ("nobody", []),
    ],
)
def test_search_matches_receipt_account_msisdn_and_payer_name(
    staff_client, make_payment, query, expected
):
    make_payment(trans_id="TKAAAAAAA1", first_name="JOHN", bill_ref_number="NS 00123")
    make_payment(
        trans_id="TKAAAAAAA2",
        first_name="Grace",
        last_name="Achieng",
        bill_ref_number="NS 00999",
        msisdn="2547 ***** 555",
    )
    assert receipts(staff_client.get("/transactions/", {"q": query})) == expected


def test_search_finds_a_hashed_msisdn_from_the_phone_number_staff_type(staff_client, make_payment):
    import hashlib

    hashed = hashlib.sha256(b"254712345678").hexdigest()
    make_payment(trans_id="TKHASHED01", msisdn=hashed)
    for typed in ("0712345678", "+254 712 345 678", "254712345678"):
        assert receipts(staff_client.get("/transactions/", {"q": typed})) == ["TKHASHED01"]


def test_dates_are_eat_calendar_days_and_until_is_inclusive(staff_client, make_payment):
    make_payment(at="2026-11-26 23:59:59", trans_id="TKBEFORE01")
    make_payment(at="2026-11-27 00:00:00", trans_id="TKFIRST001")  # 21:00 UTC on the 26th
    make_payment(at="2026-11-27 23:59:59", trans_id="TKLAST0001")
    make_payment(at="2026-11-28 00:00:00", trans_id="TKAFTER001")
    response = staff_client.get("/transactions/", {"since": "2026-11-27", "until": "2026-11-27"})
    assert receipts(response) == ["TKLAST0001", "TKFIRST001"]


def test_filters_by_shortcode_and_amount_range(staff_client, make_payment, till):
    make_payment(amount="100.00", trans_id="TKSMALL001")
    make_payment(amount="5000.00", trans_id="TKBIG00001")
    make_payment(amount="5000.00", trans_id="TKTILL0001", shortcode=till)
    response = staff_client.get("/transactions/", {"shortcode": "600984", "min_amount": "1000"})
    assert receipts(response) == ["TKBIG00001"]
    response = staff_client.get("/transactions/", {"max_amount": "100"})
    assert receipts(response) == ["TKSMALL001"]


def test_totals_count_and_sum_the_whole_filtered_set_not_just_the_page(
    staff_client, make_payment, settings
):
    settings.STAFF_PAGE_SIZE = 2
    for amount in ("100.50", "200.25", "300.00"):
        make_payment(amount=amount)
    make_payment(amount="999.00", bill_ref_number="OTHER")
    response = staff_client.get("/transactions/", {"q": "NS 00123"})
    assert len(response.context["page"].rows) == 2
    assert response.context["totals"].count == 3
    assert response.context["totals"].amount == Decimal("600.75")
    assert b"KES 600.75" in response.content


@override_settings(STAFF_TOTALS_CACHE_SECONDS=60)
def test_totals_are_reused_briefly_for_the_same_filter(staff_client, make_payment):
    make_payment(amount="100.00")
    assert staff_client.get("/transactions/").context["totals"].count == 1
    make_payment(amount="100.00")
    assert staff_client.get("/transactions/").context["totals"].count == 1  # cached
    assert staff_client.get("/transactions/", {"min_amount": "1"}).context["totals"].count == 2


def test_pages_walk_older_and_back_newer_without_gaps_or_repeats(
    staff_client, make_payment, settings
):
    settings.STAFF_PAGE_SIZE = 2
    # Two payments in the same second: the receipt breaks the tie.
    times = ["10:00:00", "10:00:00", "11:00:00", "12:00:00", "13:00:00"]
    for index, at in enumerate(f"2026-11-27 {hms}" for hms in times):
        make_payment(at=at, trans_id=f"TKPAGE000{index}")
    first = staff_client.get("/transactions/", {"shortcode": "600984"})
    assert receipts(first) == ["TKPAGE0004", "TKPAGE0003"]
    assert first.context["page"].newer is None
    second = staff_client.get(
        "/transactions/", {"shortcode": "600984", "page": first.context["page"].older}
    )
    assert receipts(second) == ["TKPAGE0002", "TKPAGE0001"]
    third = staff_client.get(
        "/transactions/", {"shortcode": "600984", "page": second.context["page"].older}
    )
    assert receipts(third) == ["TKPAGE0000"]
    assert third.context["page"].older is None
    back = staff_client.get(
        "/transactions/", {"shortcode": "600984", "page": third.context["page"].newer}
    )
    assert receipts(back) == ["TKPAGE0002", "TKPAGE0001"]
    # The links keep the filter, so a page can be bookmarked and shared.
    assert "shortcode=600984&amp;page=" in second.content.decode()


def test_the_cursor_survives_a_round_trip_to_the_microsecond():
    from datetime import UTC, datetime

    cursor = Cursor(True, datetime(2026, 11, 27, 11, 30, 15, 123456, tzinfo=UTC), "TKR3XYZ9AB")
    assert Cursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize("page", ["2", "garbage", "o12-bad id", "x1-TK", "o" + "9" * 30 + "-TK"])
def test_an_unusable_page_link_shows_the_newest_page_with_a_note(staff_client, make_payment, page):
    make_payment(trans_id="TKONLY0001")
    response = staff_client.get("/transactions/", {"page": page})
    assert response.status_code == 200
    assert receipts(response) == ["TKONLY0001"]
    assert b"not valid any more" in response.content


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "yesterday"}, "Enter a valid date"),
        ({"since": "2026-11-28", "until": "2026-11-27"}, "after the"),
        ({"min_amount": "lots"}, "Enter a number"),
        ({"min_amount": "10", "max_amount": "5"}, "minimum amount is above"),
        ({"shortcode": "999999"}, "Select a valid choice"),
        ({"q": "x" * 101}, "at most 100 characters"),
    ],
)
def test_a_filter_that_makes_no_sense_is_refused_with_the_reason(
    staff_client, main_paybill, params, message
):
    response = staff_client.get("/transactions/", params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["page"] is None


def test_customer_typed_text_is_shown_as_text_never_as_html(staff_client, make_payment):
    make_payment(first_name="<script>alert(1)</script>", bill_ref_number='"><img src=x>')
    body = staff_client.get("/transactions/").content.decode()
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert '"><img src=x>' not in body


def test_the_search_box_keeps_what_was_typed(staff_client, make_payment):
    response = staff_client.get("/transactions/", {"q": "NS 00123", "since": "2026-11-01"})
    body = response.content.decode()
    assert re.search(r'name="q"[^>]*value="NS 00123"', body)
    assert 'value="2026-11-01"' in body
    assert "/transactions/export.csv?q=NS+00123&amp;since=2026-11-01" in body


def test_the_list_runs_a_fixed_number_of_queries_whatever_the_page_size(staff_client, make_payment):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as context:
            staff_client.get("/transactions/", {"q": "NS"})
        return len(context)

    make_payment()
    few = queries()
    for _ in range(30):
        make_payment()
    assert queries() == few <= 14


def test_each_row_shows_the_matched_member_number(staff_client, mpesa, paybill):
    from factories import load_payload
    from members.models import Member

    Member.objects.create(number="NS00123", name="Jane Wanjiku")
    mpesa.confirm(load_payload("confirmation_v2_masked"))
    mpesa.confirm(load_payload("confirmation_v2_masked", TransID="TKUNMATCH1", BillRefNumber="?"))
    body = staff_client.get("/transactions/").content.decode()
    assert 'title="Account number only">NS00123</span>' in body
    assert body.count('<span class="badge bad">unmatched</span>') == 1

"""What a finance officer does every day, in a real browser."""

import csv
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from c2b.models import CallbackReceipt, Payment, Shortcode
from c2b.payloads import EAT
from staff.tests.browser.conftest import shoot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def world(django_user_model):
    django_user_model.objects.create_user("wanjiku", password=PASSWORD, is_staff=True)
    paybill = Shortcode.objects.create(number="600984", name="Main paybill")
    Shortcode.objects.create(number="600638", name="Shop till", kind="till")
    now = datetime.now(EAT).replace(microsecond=0)
    names = [("JOHN", "KAMAU"), ("MARY", "ACHIENG"), ("PETER", "OTIENO"), ("GRACE", "WANJIRU")]
    for day in range(30):
        for n in range(1 + day % 4):
            first, last = names[(day + n) % len(names)]
            # Within one EAT day whatever the time of the run (n hours back could cross midnight).
            moment = (now - timedelta(days=day)).replace(hour=9 + n, minute=0, second=0)
            Payment.objects.create(
                trans_id=f"TK{day:02d}{n:02d}ABCD",
                transaction_type="Pay Bill",
                trans_time=moment,
                amount=Decimal(1000 + 250 * ((day * 7 + n) % 9)),
                shortcode=paybill,
                business_short_code="600984",
                bill_ref_number=f"NS {day:05d}",
                msisdn="2547 ***** 126",
                first_name=first,
                last_name=last,
                org_account_balance=Decimal("49197.00"),
            )
    CallbackReceipt.objects.create(
        kind="confirmation",
        status="failed",
        body=b'{"TransID": "TKLOST0001", "BusinessShortCode": "600999"}',
        trans_id="TKLOST0001",
        error="Unknown shortcode 600999: add it (admin or 'manage.py shortcode add') and "
        "reprocess this callback.",
    )
    return now


def sign_in(page, path="/"):
    page.goto(path)
    expect(page).to_have_url(re.compile(re.escape(f"/accounts/login/?next={path}") + "$"))
    page.get_by_label("Username").fill("wanjiku")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_and_find_a_payment_by_its_receipt(page, world):
    page.goto("/transactions/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shoot(page, "login")
    page.get_by_label("Username").fill("wanjiku")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Transactions")).to_be_visible()
    shoot(page, "transactions")

    page.get_by_label("Search").fill("tk0302abcd")
    page.get_by_role("button", name="Apply").click()
    rows = page.locator("table.payments tbody tr")
    expect(rows).to_have_count(1)
    expect(page.locator("#total-count")).to_have_text("1")
    page.get_by_role("link", name="TK0302ABCD").click()
    expect(page.get_by_role("heading", name="TK0302ABCD")).to_be_visible()
    expect(page.get_by_text("NS 00003")).to_be_visible()
    shoot(page, "detail")
    assert page.csp_errors == []


def test_a_wrong_password_is_refused_in_the_page(page, world):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("wanjiku")
    page.get_by_label("Password").fill("not it")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")


def test_filter_by_date_and_download_that_as_csv(page, world):
    sign_in(page, "/transactions/")
    day = (world - timedelta(days=3)).date()
    page.get_by_label("From (EAT)").fill(day.isoformat())
    page.get_by_label("To (EAT)").fill(day.isoformat())
    page.get_by_role("button", name="Apply").click()
    # The filter lives in the address, so this view can be bookmarked and shared.
    expect(page).to_have_url(re.compile(f"/transactions/\\?.*since={day}&until={day}"))
    rows = page.locator("table.payments tbody tr")
    expected = Payment.objects.filter(trans_id__startswith="TK03").count()
    expect(rows).to_have_count(expected)
    expect(page.locator("#total-count")).to_have_text(str(expected))
    shoot(page, "transactions-filtered")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("neno-payments-")
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8") as handle:
        exported = list(csv.reader(io.StringIO(handle.read())))
    assert exported[0][0] == "TransID"
    assert sorted(row[0] for row in exported[1:]) == sorted(
        Payment.objects.filter(trans_id__startswith="TK03").values_list("trans_id", flat=True)
    )


def test_the_dashboard_draws_the_daily_chart(page, world):
    sign_in(page, "/")
    chart = page.locator("#daily-chart")
    expect(chart).to_be_visible()
    bars = chart.locator("rect.bar")
    expect(bars).to_have_count(30)
    box = chart.bounding_box()
    assert box["width"] > 600 and box["height"] > 150
    heights = [bars.nth(i).bounding_box()["height"] for i in range(30)]
    assert max(heights) > 50  # drawn, not just present
    colour = bars.first.evaluate("bar => getComputedStyle(bar).fill")
    assert colour != "rgb(0, 0, 0)"  # the stylesheet reached the SVG
    expect(page.locator(".kpi-label", has_text="This month")).to_be_visible()
    shoot(page, "dashboard")
    assert page.csp_errors == []


def test_the_attention_page_reprocesses_a_failed_callback(page, world):
    sign_in(page, "/attention/")
    expect(page.get_by_text("Unknown shortcode 600999")).to_be_visible()
    shoot(page, "attention")
    Shortcode.objects.create(number="600999")
    page.get_by_role("button", name="Reprocess").click()
    expect(page.get_by_role("status").first).to_contain_text("reprocessed")

"""The dashboard: today and this month in EAT days, the 30-day chart, each shortcode's pulse."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings

from c2b.payloads import EAT
from staff.selectors import business_minutes_between, dashboard

pytestmark = pytest.mark.django_db

# Friday 27 November 2026, 14:00 EAT.
NOW = datetime(2026, 11, 27, 14, 0, tzinfo=EAT)


def eat(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EAT)


def test_today_and_this_month_are_eat_days(make_payment):
    make_payment(at="2026-11-27 00:30:00", amount="100.00")  # 21:30 UTC on the 26th: today
    make_payment(at="2026-11-26 23:59:59", amount="20.00")  # yesterday, this month
    make_payment(at="2026-11-01 00:00:00", amount="3.00")  # first second of the month
    make_payment(at="2026-10-31 23:59:59", amount="4000.00")  # last month
    board = dashboard(now=NOW)
    assert (board.today.count, board.today.amount) == (1, Decimal("100.00"))
    assert (board.month.count, board.month.amount) == (3, Decimal("123.00"))


def test_the_chart_has_thirty_days_ending_today_with_empty_days_as_zero(make_payment):
    make_payment(at="2026-11-27 09:00:00", amount="500.00")
    make_payment(at="2026-11-27 10:00:00", amount="250.00")
    make_payment(at="2026-10-29 10:00:00", amount="70.00")  # 30th day back: included
    make_payment(at="2026-10-28 10:00:00", amount="9.00")  # 31st: not
    days = dashboard(now=NOW).days
    assert len(days) == 30
    assert days[0].day.isoformat() == "2026-10-29"
    assert (days[0].count, days[0].amount) == (1, Decimal("70.00"))
    assert (days[-1].count, days[-1].amount) == (2, Decimal("750.00"))
    assert sum(day.count for day in days[1:-1]) == 0


def test_totals_per_shortcode(make_payment, till):
    make_payment(at="2026-11-27 09:00:00", amount="500.00")
    make_payment(at="2026-11-20 09:00:00", amount="100.00")
    make_payment(at="2026-11-27 11:00:00", amount="40.00", shortcode=till)
    health = {h.shortcode.number: h for h in dashboard(now=NOW).shortcodes}
    assert health["600984"].today.amount == Decimal("500.00")
    assert health["600984"].month.amount == Decimal("600.00")
    assert health["600638"].today.amount == Decimal("40.00")
    assert health["600638"].month.count == 1


@override_settings(STAFF_SILENCE_WARNING_MINUTES=60)
def test_a_shortcode_silent_for_the_configured_business_minutes_is_flagged(
    make_payment, till, monkeypatch
):
    paybill_payment = make_payment(at="2026-11-27 13:30:00")
    till_payment = make_payment(at="2026-11-27 12:30:00", shortcode=till)
    # "Last received" is when we stored it: set it as if the callbacks came on time.
    type(paybill_payment).objects.filter(pk=paybill_payment.pk).update(
        created_at=eat("2026-11-27 13:30:02")
    )
    type(till_payment).objects.filter(pk=till_payment.pk).update(
        created_at=eat("2026-11-27 12:30:02")
    )
    health = {h.shortcode.number: h for h in dashboard(now=NOW).shortcodes}
    assert not health["600984"].warning
    assert health["600638"].warning
    assert health["600638"].silent_minutes == 89


@override_settings(
    STAFF_SILENCE_WARNING_MINUTES=60,
    STAFF_BUSINESS_HOURS=(time(8), time(18)),
    STAFF_BUSINESS_DAYS=[0, 1, 2, 3, 4, 5],
)
def test_silence_counts_only_business_hours():
    # Saturday 17:30 to Monday 08:20: 30 min on Saturday, none on Sunday, 20 on Monday.
    assert business_minutes_between(eat("2026-11-28 17:30"), eat("2026-11-30 08:20")) == 50
    # Overnight on a weekday: only the evening's last minutes and the morning's first.
    assert business_minutes_between(eat("2026-11-26 17:00"), eat("2026-11-27 09:00")) == 120
    assert business_minutes_between(eat("2026-11-27 19:00"), eat("2026-11-27 07:00")) == 0


def test_a_quiet_night_does_not_raise_a_warning_in_the_morning(make_payment, settings):
    settings.STAFF_SILENCE_WARNING_MINUTES = 60
    payment = make_payment(at="2026-11-26 17:55:00")
    type(payment).objects.filter(pk=payment.pk).update(created_at=eat("2026-11-26 17:55:02"))
    morning = datetime(2026, 11, 27, 8, 30, tzinfo=EAT)
    (health,) = dashboard(now=morning).shortcodes
    assert not health.warning  # 5 + 30 business minutes
    (health,) = dashboard(now=morning + timedelta(minutes=30)).shortcodes
    assert health.warning


def test_a_disabled_shortcode_is_never_flagged(main_paybill):
    main_paybill.enabled = False
    main_paybill.save()
    (health,) = dashboard(now=NOW + timedelta(days=3)).shortcodes
    assert not health.warning


def test_the_page_draws_the_chart_as_svg_and_shows_the_warning(staff_client, make_payment):
    make_payment(at=(datetime.now(EAT) - timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S"))
    response = staff_client.get("/")
    body = response.content.decode()
    assert body.count('<rect class="bar') == 30
    assert '<svg id="daily-chart"' in body
    assert "KES" in body
    assert "<script" not in body


@override_settings(
    STAFF_BUSINESS_HOURS=(datetime(1, 1, 1, 0).time(), datetime(1, 1, 1, 23, 59).time())
)
@override_settings(STAFF_BUSINESS_DAYS=[0, 1, 2, 3, 4, 5, 6])
def test_the_page_warns_visibly_about_a_silent_shortcode(staff_client, main_paybill):
    main_paybill.created_at = datetime.now(EAT) - timedelta(days=2)
    type(main_paybill).objects.filter(pk=main_paybill.pk).update(created_at=main_paybill.created_at)
    body = staff_client.get("/").content.decode()
    assert "Silent shortcode" in body
    assert "Check the Daraja registration" in body


def test_the_page_warns_when_confirmations_wait_for_a_capture_worker(
    staff_client, main_paybill, mpesa, payload
):
    from c2b.models import CallbackReceipt

    mpesa.post("confirmation", payload("confirmation_v2_masked"))
    assert "not captured yet" not in staff_client.get("/").content.decode()  # just arrived

    old = datetime.now(EAT) - timedelta(minutes=7)
    CallbackReceipt.objects.update(received_at=old)
    body = staff_client.get("/").content.decode()
    assert "Payments not captured yet" in body
    assert "the oldest has waited 7 min" in body
    assert "Is the capture worker running?" in body


def test_the_page_warns_seconds_after_capture_falls_behind_not_minutes(
    staff_client, main_paybill, mpesa, payload
):
    import re

    from c2b.models import CallbackReceipt

    mpesa.post("confirmation", payload("confirmation_v2_masked"))
    CallbackReceipt.objects.update(received_at=datetime.now(EAT) - timedelta(seconds=45))

    body = staff_client.get("/").content.decode()
    assert "Payments not captured yet" in body
    assert re.search(r"the oldest has waited (4[5-9]|5[0-9]) s\.", body)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STAFF_BUSINESS_HOURS": "8am-6pm"}, "STAFF_BUSINESS_HOURS must look like 08:00-18:00"),
        ({"STAFF_BUSINESS_HOURS": "18:00-08:00"}, "must open before it closes"),
        ({"STAFF_BUSINESS_DAYS": "mon,funday"}, "STAFF_BUSINESS_DAYS must be days"),
        ({"STAFF_SILENCE_WARNING_MINUTES": "an hour"}, "STAFF_SILENCE_WARNING_MINUTES"),
    ],
)
def test_bad_staff_settings_stop_the_app_naming_the_variable(env, message):
    from config.tests.test_settings import start_django

    result = start_django(DJANGO_DEBUG="true", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_pulse_is_when_payments_were_received_not_the_time_the_payer_claims(make_payment):
    received = make_payment(at="2026-11-27 13:30:00")
    claims_later = make_payment(at="2026-11-28 09:00:00")  # claims a later time, arrived first
    type(received).objects.filter(pk=received.pk).update(created_at=eat("2026-11-27 13:30:02"))
    type(received).objects.filter(pk=claims_later.pk).update(created_at=eat("2026-11-27 13:00:00"))
    [health] = [h for h in dashboard(now=NOW).shortcodes if h.shortcode.number == "600984"]
    assert health.last_received_at == eat("2026-11-27 13:30:02")

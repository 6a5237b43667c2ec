"""Pull Transactions without HTTP: the window, the replies, paging through an ambiguous offset."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from daraja.errors import DarajaError, InvalidRequest
from daraja.pull import (
    parse_query_reply,
    parse_record,
    parse_register_reply,
    pull_window,
    sweep,
)
from daraja.tests.fakes import END, START, FakePull, everything, ids, record
from daraja.tests.payloads import load
from daraja.values import EAT

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # 15:00 EAT


# --- the window ----------------------------------------------------------------------------


def test_the_window_is_sent_in_eat_whatever_zone_it_is_given_in():
    start = NOW - timedelta(hours=2)
    assert pull_window(start, NOW, now=NOW) == ("2026-11-27 13:00:00", "2026-11-27 15:00:00")
    eat_start = start.astimezone(EAT)
    assert pull_window(eat_start, NOW, now=NOW) == ("2026-11-27 13:00:00", "2026-11-27 15:00:00")


def test_fractions_of_a_second_are_dropped():
    start = NOW - timedelta(hours=1, microseconds=500)
    assert pull_window(start, NOW, now=NOW)[0] == "2026-11-27 13:59:59"


def test_exactly_48_hours_is_allowed():
    assert pull_window(NOW - timedelta(hours=48), NOW, now=NOW)[0] == "2026-11-25 15:00:00"


def test_more_than_48_hours_is_refused():
    with pytest.raises(InvalidRequest, match="at most 48 hours"):
        pull_window(NOW - timedelta(hours=48, seconds=1), NOW, now=NOW)


def test_a_start_older_than_48_hours_is_refused_even_for_a_short_window():
    start = NOW - timedelta(hours=50)
    with pytest.raises(InvalidRequest, match=r"only the last 48 hours.*statement"):
        pull_window(start, start + timedelta(hours=1), now=NOW)


def test_a_start_computed_a_moment_ago_is_allowed():
    start = NOW - timedelta(hours=48)
    pull_window(start, NOW, now=NOW + timedelta(seconds=30))


@pytest.mark.parametrize("which", ["start", "end"])
def test_naive_times_are_refused(which):
    times = {"start": NOW - timedelta(hours=1), "end": NOW}
    times[which] = times[which].replace(tzinfo=None)
    with pytest.raises(InvalidRequest, match=rf"{which} .* no time zone"):
        pull_window(times["start"], times["end"], now=NOW)


def test_a_date_is_not_a_datetime():
    with pytest.raises(InvalidRequest, match="must be a datetime"):
        pull_window(NOW.date(), NOW, now=NOW)


@pytest.mark.parametrize("start", [NOW, NOW + timedelta(seconds=1)])
def test_start_must_be_before_end(start):
    with pytest.raises(InvalidRequest, match="before its end"):
        pull_window(start, NOW, now=NOW)


def test_a_window_error_is_a_daraja_error_and_a_value_error():
    with pytest.raises(DarajaError):
        pull_window(NOW, NOW, now=NOW)
    with pytest.raises(ValueError):
        pull_window(NOW, NOW, now=NOW)


# --- the replies ---------------------------------------------------------------------------


def test_a_page_of_records_is_read_from_the_nested_response():
    page = parse_query_reply(load("pull_query_page"), offset=0)

    assert page.response_code == "1000" and not page.no_records
    assert page.transaction_ids == ("TKR4B7XQ2M", "TKR4B7XQ3N")
    first, second = page.records
    assert first.amount == Decimal("1020.00") and second.amount == Decimal("500.00")
    assert first.msisdn == "722000000"  # documented as a number without the country code
    assert second.msisdn == "2547 ***** 126"
    assert first.sender == "JOHN OTIENO"
    assert first.transaction_type == "c2b-pay-bill-debit"
    assert second.bill_reference == "ns00456 dep"  # as the customer typed it
    assert first.organization_name == "NENO SACCO"
    assert first.trx_date_raw == "2026-11-27T11:30:15Z"
    assert first.trx_date == datetime(2026, 11, 27, 14, 30, 15, tzinfo=EAT)
    assert page.unreadable == ()


def test_1001_is_an_empty_page_that_says_so():
    page = parse_query_reply(load("pull_query_1001"), offset=0)
    assert page.no_records and page.records == () and page.size == 0
    assert page.response_message == "No records found or Organization Name not available"


def test_1001_without_a_response_list_is_still_an_empty_page():
    reply = {"ResponseRefID": "x", "ResponseCode": 1001, "ResponseMessage": "No records found"}
    assert parse_query_reply(reply, offset=3).no_records


@pytest.mark.parametrize("response", [[], [[]], None])
def test_success_with_nothing_in_it_is_an_empty_page(response):
    reply = {"ResponseCode": "1000", "ResponseMessage": "Success", "Response": response}
    page = parse_query_reply(reply, offset=0)
    assert page.size == 0 and not page.no_records


def test_a_flat_list_of_records_is_read_too():
    reply = load("pull_query_page")
    reply["Response"] = reply["Response"][0]
    assert parse_query_reply(reply, offset=0).transaction_ids == ("TKR4B7XQ2M", "TKR4B7XQ3N")


def test_odd_items_are_set_apart_without_losing_the_others():
    reply = load("pull_query_page")
    items = reply["Response"][0]
    items.append({"transactionId": "", "amount": "5.00"})
    items.append({"transactionId": "TKR4B7XQ4P", "amount": "five"})
    items.append({"transactionId": "TKR4B7XQ5R"})
    items.append("junk")
    page = parse_query_reply(reply, offset=0)
    assert page.transaction_ids == ("TKR4B7XQ2M", "TKR4B7XQ3N")
    reasons = [u.reason for u in page.unreadable]
    assert reasons == [
        "no transactionId",
        "TKR4B7XQ4P: amount is not a number: 'five'",
        "TKR4B7XQ5R: no amount",
        "not a record but str",
    ]
    assert page.size == 6


@pytest.mark.parametrize(
    "reply",
    [
        {"ResponseCode": "1002", "ResponseMessage": "Invalid shortcode"},
        {"ResponseMessage": "no code at all"},
        {"ResponseCode": None},
    ],
)
def test_other_answers_are_errors(reply):
    with pytest.raises(DarajaError):
        parse_query_reply(reply, offset=0)


def test_a_success_without_a_list_is_an_error():
    with pytest.raises(DarajaError, match="no list of records"):
        parse_query_reply({"ResponseCode": "1000", "Response": {"a": 1}}, offset=0)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-27T11:30:15Z", datetime(2026, 11, 27, 14, 30, 15, tzinfo=EAT)),
        ("2026-11-27T11:30:15+00:00", datetime(2026, 11, 27, 14, 30, 15, tzinfo=EAT)),
        ("2026-11-27 14:30:15", datetime(2026, 11, 27, 14, 30, 15, tzinfo=EAT)),
        ("20261127143015", datetime(2026, 11, 27, 14, 30, 15, tzinfo=EAT)),
        ("27/11/2026", None),
        ("", None),
    ],
)
def test_trx_date_is_kept_raw_and_parsed_when_it_can_be(raw, expected):
    record = parse_record({"transactionId": "TKR4B7XQ2M", "amount": 1, "trxDate": raw})
    assert record.trx_date_raw == raw
    assert record.trx_date == expected


def test_a_record_repr_leaves_out_the_phone_number_and_sender():
    record = parse_record(load("pull_query_page")["Response"][0][1])
    assert "126" not in repr(record) and "JANE" not in repr(record)


def test_registration_1000_and_1001_are_both_success():
    registered = parse_register_reply(load("pull_register_1000"))
    assert registered.status == "1000" and not registered.already_registered
    assert registered.description == "Shortcode Registered Successfully"
    assert registered.reference_id == "18633-7271215-1"
    again = parse_register_reply(load("pull_register_1001"))
    assert again.status == "1001" and again.already_registered


def test_another_registration_status_is_an_error_with_daraja_text():
    reply = {"ResponseStatus": "1002", "ResponseDescription": "Invalid NominatedNumber"}
    with pytest.raises(DarajaError, match="Invalid NominatedNumber") as exc:
        parse_register_reply(reply)
    assert exc.value.code == "1002"


# --- paging --------------------------------------------------------------------------------


def test_row_offsets_are_detected_and_followed():
    daraja = FakePull(total=7, page_size=3, mode="row")
    result = sweep(daraja, start=START, end=END)
    assert ids(result) == everything(7)
    assert result.offset_mode == "row" and result.complete
    assert daraja.offsets == [0, 1, 4, 7]


def test_page_numbers_are_detected_and_followed():
    daraja = FakePull(total=7, page_size=3, mode="page")
    result = sweep(daraja, start=START, end=END)
    assert ids(result) == everything(7)
    assert result.offset_mode == "page" and result.complete
    assert daraja.offsets == [0, 1, 2, 3]
    assert result.stop_reason == "no records (1001)"


def test_an_ignored_offset_stops_at_the_repeated_page():
    daraja = FakePull(total=7, page_size=3, mode="ignores offset")
    result = sweep(daraja, start=START, end=END)
    assert ids(result) == everything(3)
    assert result.stop_reason == "page repeats the previous one"
    assert daraja.offsets == [0, 1]


def test_a_repeated_last_page_stops_the_sweep():
    daraja = FakePull(total=7, page_size=3, mode="repeats last page")
    result = sweep(daraja, start=START, end=END)
    assert ids(result) == everything(7)
    assert result.stop_reason == "page repeats the previous one" and result.complete


def test_an_endless_pull_stops_at_the_cap_and_says_it_is_incomplete(caplog):
    daraja = FakePull(total=0, page_size=2, mode="endless")
    result = sweep(daraja, start=START, end=END, max_pages=5)
    assert len(daraja.offsets) == 5 and len(result.records) == 10
    assert not result.complete and "cap" in result.stop_reason
    assert "page cap" in caplog.text


def test_nothing_found_when_the_first_page_is_1001():
    result = sweep(FakePull(total=0, page_size=3, mode="row"), start=START, end=END)
    assert result.nothing_found and result.records == () and result.complete
    assert result.message == "No records found or Organization Name not available"
    assert result.offset_mode == "unknown"


def test_one_full_page_and_nothing_after_it():
    daraja = FakePull(total=3, page_size=3, mode="row")
    result = sweep(daraja, start=START, end=END)
    assert ids(result) == everything(3) and not result.nothing_found
    assert result.stop_reason == "page brings no new records"


def test_a_cap_below_one_is_refused():
    with pytest.raises(InvalidRequest):
        sweep(FakePull(total=1, page_size=1, mode="row"), start=START, end=END, max_pages=0)


def scripted(*pages):
    """A Pull that answers each request with the next of ``pages`` (lists of record numbers)."""
    offsets = []

    def fetch(offset):
        offsets.append(offset)
        numbers = pages[len(offsets) - 1] if len(offsets) <= len(pages) else []
        if not numbers:
            return parse_query_reply(load("pull_query_1001"), offset=offset)
        items = [record(n) for n in numbers]
        return parse_query_reply({"ResponseCode": "1000", "Response": [items]}, offset=offset)

    return fetch, offsets


def test_an_overlap_that_fits_neither_reading_steps_one_at_a_time_and_skips_nothing():
    # Page numbers, but a payment landed between the first two requests and shifted them.
    fetch, offsets = scripted([1, 2, 3], [3, 4, 5], [6, 7, 8], [9])
    result = sweep(fetch, start=START, end=END)
    assert result.offset_mode == "unclear"
    assert offsets == [0, 1, 2, 3, 4]
    assert ids(result) == everything(9)


def test_a_first_page_of_one_record_cannot_show_rows():
    fetch, offsets = scripted([1], [1, 2], [3])
    result = sweep(fetch, start=START, end=END)
    assert result.offset_mode == "unclear" and offsets == [0, 1, 2, 3]
    assert ids(result) == everything(3)

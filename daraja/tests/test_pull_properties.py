"""Properties of Pull parsing and paging, whatever Daraja sends and however it reads OffSetValue."""

import contextlib
import math
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from daraja.errors import DarajaError
from daraja.pull import PullPage, parse_query_reply, parse_record, sweep
from daraja.tests.fakes import END, START, FakePull, everything, ids
from daraja.tests.strategies import PARSER, json_values

RECORD_KEYS = [
    "transactionId",
    "trxDate",
    "msisdn",
    "sender",
    "transactiontype",
    "billreference",
    "amount",
    "organizationname",
]
record_like = st.dictionaries(st.sampled_from(RECORD_KEYS) | st.text(max_size=6), json_values)
reply_like = st.fixed_dictionaries(
    {},
    optional={
        "ResponseRefID": json_values,
        "ResponseCode": st.sampled_from(["1000", 1000, "1001", 1001]) | json_values,
        "ResponseMessage": json_values,
        "Response": st.lists(st.lists(record_like, max_size=4) | record_like, max_size=3)
        | json_values,
    },
)


@PARSER
@given(record_like | json_values)
def test_any_item_is_a_record_or_a_value_error(item):
    with contextlib.suppress(ValueError):
        parse_record(item)


@PARSER
@given(reply_like)
def test_any_reply_is_a_page_or_a_daraja_error(reply):
    try:
        page = parse_query_reply(reply, offset=0)
    except DarajaError:
        return
    assert isinstance(page, PullPage)
    assert all(record.transaction_id for record in page.records)


@PARSER
@given(
    st.decimals(min_value=0, max_value=Decimal("999999.99"), places=2),
    st.sampled_from([str, float, Decimal]),
)
def test_any_two_place_amount_is_read_exactly(amount, form):
    record = parse_record({"transactionId": "TKR4B7XQ2M", "amount": form(amount)})
    assert record.amount == amount


@PARSER
@given(
    total=st.integers(min_value=0, max_value=60),
    page_size=st.integers(min_value=1, max_value=10),
    mode=st.sampled_from(["row", "page", "repeats last page"]),
)
def test_every_record_is_found_once_whichever_way_the_offset_is_read(total, page_size, mode):
    daraja = FakePull(total=total, page_size=page_size, mode=mode)
    result = sweep(daraja, start=START, end=END)

    assert ids(result) == everything(total)
    assert result.complete
    assert len(daraja.offsets) <= math.ceil(total / page_size) + 2


@PARSER
@given(
    total=st.integers(min_value=0, max_value=60),
    page_size=st.integers(min_value=1, max_value=10),
    max_pages=st.integers(min_value=1, max_value=30),
    mode=st.sampled_from(["row", "page", "repeats last page", "ignores offset", "endless"]),
)
def test_a_sweep_never_makes_more_requests_than_its_cap(total, page_size, max_pages, mode):
    daraja = FakePull(total=total, page_size=page_size, mode=mode)
    result = sweep(daraja, start=START, end=END, max_pages=max_pages)

    assert len(daraja.offsets) == len(result.pages) <= max_pages
    assert len(set(ids(result))) == len(result.records)
    if mode == "endless":
        assert not result.complete


@PARSER
@given(
    total=st.integers(min_value=0, max_value=60),
    # With two records a page, a shifted page-number page looks exactly like a row offset; real
    # pages are far larger (the emulator's default is 100).
    page_size=st.integers(min_value=3, max_value=10),
)
def test_a_payment_landing_mid_sweep_makes_no_record_go_missing(total, page_size):
    daraja = FakePull(total=total, page_size=page_size, mode="page, one payment lands")
    result = sweep(daraja, start=START, end=END)

    assert set(everything(total)) <= set(ids(result))
    assert result.complete

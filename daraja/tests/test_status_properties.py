"""Properties of the Transaction Status result parser, for any body anyone could post to us."""

import contextlib
import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from daraja.errors import ResultParseError
from daraja.status import parse_queue_timeout, parse_transaction_status_result
from daraja.tests.payloads import load
from daraja.tests.strategies import PARSER, json_values

KEYS = [
    "ReceiptNo",
    "Amount",
    "TransactionStatus",
    "InitiatedTime",
    "FinalisedTime",
    "DebitPartyName",
    "CreditPartyName",
    "ReasonType",
    "DebitAccountType",
    "ConversationID",
    "OriginatorConversationID",
    "TransactionReason",
]
parameter = st.builds(
    lambda key, value, has_value: {"Key": key, "Value": value} if has_value else {"Key": key},
    st.sampled_from(KEYS) | st.text(max_size=8),
    json_values,
    st.booleans(),
)
# Bodies shaped like results, with every field possibly wrong: where parsers break.
near_results = st.fixed_dictionaries(
    {
        "Result": st.fixed_dictionaries(
            {},
            optional={
                "ResultType": json_values,
                "ResultCode": st.sampled_from([0, "0", 2001, "R000002"]) | json_values,
                "ResultDesc": json_values,
                "ConversationID": json_values,
                "OriginatorConversationID": json_values,
                "TransactionID": json_values,
                "ResultParameters": st.fixed_dictionaries(
                    {"ResultParameter": st.lists(parameter, max_size=8) | parameter | json_values}
                )
                | json_values,
                "ReferenceData": st.fixed_dictionaries(
                    {"ReferenceItem": st.lists(parameter, max_size=3) | parameter | json_values}
                )
                | json_values,
            },
        )
    }
)


def parses_or_refuses(body):
    for parse in (parse_transaction_status_result, parse_queue_timeout):
        with contextlib.suppress(ResultParseError):
            parse(body)


@PARSER
@given(json_values)
def test_any_json_value_parses_or_is_a_parse_error(body):
    parses_or_refuses(body)


@PARSER
@given(near_results)
def test_any_result_shaped_body_parses_or_is_a_parse_error(body):
    parses_or_refuses(body)


@PARSER
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_any_text_or_bytes_parses_or_is_a_parse_error(body):
    parses_or_refuses(body)


@PARSER
@given(near_results)
def test_the_json_text_of_a_body_parses_like_the_body(body):
    try:
        text = json.dumps(body, default=str, allow_nan=False)
    except ValueError:
        return
    parses_or_refuses(text)


@PARSER
@given(
    st.permutations(
        load("status_result_production")["Result"]["ResultParameters"]["ResultParameter"]
    )
)
def test_parameter_order_never_changes_the_result(shuffled):
    reference = parse_transaction_status_result(load("status_result_production"))
    body = load("status_result_production")
    body["Result"]["ResultParameters"]["ResultParameter"] = shuffled
    assert parse_transaction_status_result(body) == reference


@PARSER
@given(st.data())
def test_parameter_order_never_changes_the_result_even_for_odd_parameters(data):
    items = data.draw(st.lists(parameter, max_size=10))
    shuffled = data.draw(st.permutations(items))

    def outcome(entries):
        try:
            return parse_transaction_status_result(
                {"Result": {"ResultCode": 0, "ResultParameters": {"ResultParameter": entries}}}
            )
        except ResultParseError:
            return "refused"

    first, second = outcome(items), outcome(shuffled)
    if first != second:
        # Only NaN, which is never equal to itself, may make two parses of one body differ.
        assert "nan" in repr(items).lower()


@PARSER
@given(st.decimals(min_value=0, max_value=Decimal("250000"), places=2))
def test_any_two_place_amount_is_read_exactly_as_a_string_or_a_number(amount):
    for sent in (str(amount), float(amount), amount):
        body = load("status_result_docs")
        body["Result"]["ResultParameters"]["ResultParameter"][10]["Value"] = sent
        assert parse_transaction_status_result(body).amount == amount

"""A Pull Transactions double for paging tests: Daraja reading OffSetValue one way or another."""

from datetime import UTC, datetime, timedelta

from daraja.pull import PullPage, parse_query_reply
from daraja.tests.payloads import load

END = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
START = END - timedelta(hours=2)


def record(n: int) -> dict:
    return {
        "transactionId": f"TX{n:08d}",
        "trxDate": "2026-11-27T11:30:15Z",
        "msisdn": 722000000 + n,
        "sender": "JOHN OTIENO",
        "transactiontype": "c2b-pay-bill-debit",
        "billreference": f"NS{n:05d}",
        "amount": f"{n}.00",
        "organizationname": "NENO SACCO",
    }


class FakePull:
    """Daraja's Pull with ``total`` records, reading OffSetValue one way or another."""

    def __init__(self, total: int, page_size: int, mode: str) -> None:
        self.rows = [record(n) for n in range(1, total + 1)]
        self.page_size = page_size
        self.mode = mode
        self.offsets: list[int] = []

    def __call__(self, offset: int) -> PullPage:
        self.offsets.append(offset)
        if self.mode == "page, one payment lands" and len(self.offsets) == 2:
            self.rows.insert(0, record(99_999))  # newest first: every page shifts by one
        if self.mode == "row":
            items = self.rows[offset : offset + self.page_size]
        elif self.mode in ("page", "page, one payment lands"):
            items = self.rows[offset * self.page_size : (offset + 1) * self.page_size]
        elif self.mode == "ignores offset":
            items = self.rows[: self.page_size]
        elif self.mode == "repeats last page":
            last = max((len(self.rows) - 1) // self.page_size, 0)
            page = min(offset, last)
            items = self.rows[page * self.page_size : (page + 1) * self.page_size]
        else:  # "endless": a fresh page every time
            items = [record(10_000 + offset * 10 + i) for i in range(self.page_size)]
        if not items:
            return parse_query_reply(load("pull_query_1001"), offset=offset)
        reply = {"ResponseCode": "1000", "ResponseMessage": "Success", "Response": [items]}
        return parse_query_reply(reply, offset=offset)


def ids(result) -> list[str]:
    return [r.transaction_id for r in result.records]


def everything(total: int) -> list[str]:
    return [f"TX{n:08d}" for n in range(1, total + 1)]

"""The proof of completeness: what it checks, and how it names each difference."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from reconciliation.statements import Proof, open_statement, statement_proof
from reconciliation.statements.proof import MAX_LISTED
from reconciliation.statements.tests.generate import Style, csv_bytes, many_lines, rows

FULL = Path(__file__).parent / "fixtures" / "full_preamble_totals.csv"


def full_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(FULL.read_text())))


def proof_of(table: list[list[str]]) -> Proof:
    out = io.StringIO()
    csv.writer(out).writerows(table)
    return statement_proof(open_statement(out.getvalue().encode()))


def test_a_deleted_payment_is_named_by_the_totals_and_the_running_balance():
    table = full_rows()
    deleted = table.pop(20)  # SE89RE4WQA's payment of 4,000.00, below its charge
    assert deleted[0] == "SE89RE4WQA" and deleted[5] == "4,000.00"
    proof = proof_of(table)
    assert not proof.complete
    assert proof.discrepancies == (
        "Total Paid In stated 80,300.00, lines add up to 76,300.00 (4,000.00 missing)",
        "Opening Balance 58,340.25 + 76,300.00 - 43,282.00 = 91,358.25, not the stated Closing "
        "Balance 95,358.25 (differs by 4,000.00)",
        "line 20: Balance 64,254.25 does not follow from line 21's 60,306.25 - 52.00 "
        "(that makes 60,254.25)",
    )


def test_an_edited_amount_is_named():
    table = full_rows()
    table[20][5] = "4,500.00"
    proof = proof_of(table)
    assert proof.discrepancies[0] == (
        "Total Paid In stated 80,300.00, lines add up to 80,800.00 (500.00 more than stated)"
    )
    assert proof.discrepancies[2] == (
        "line 21: Balance 64,306.25 does not follow from line 22's 60,306.25 + 4,500.00 "
        "(that makes 64,806.25)"
    )


def test_a_line_turned_failed_no_longer_counts():
    table = full_rows()
    table[22][4] = "Failed"  # SE88ZX4CVB's payment, the oldest line
    proof = proof_of(table)
    assert "Total Paid In stated 80,300.00, lines add up to 78,300.00 (2,000.00 missing)" in (
        proof.discrepancies
    )
    assert (
        "line 22 (the oldest): Balance 60,306.25 does not follow from the Opening Balance "
        "58,340.25 - 34.00" in proof.discrepancies
    )


def test_the_newest_line_must_end_at_the_closing_balance():
    table = full_rows()
    table[6][7] = "95,000.00"
    assert proof_of(table).discrepancies == (
        "line 7: Balance 95,000.00 does not follow from line 8's 135,358.25 - 40,000.00 "
        "(that makes 95,358.25)",
        "line 7 (the newest): Balance 95,000.00 does not end at the Closing Balance 95,358.25",
    )


def test_a_sweep_deleted_whole_moved_nothing_so_only_the_totals_see_it():
    table = full_rows()
    del table[6:8]  # the sweep's Withdrawn and Paid In lines
    assert proof_of(table).discrepancies == (
        "Total Paid In stated 80,300.00, lines add up to 40,300.00 (40,000.00 missing)",
        "Total Withdrawn stated 43,282.00, lines add up to 3,282.00 (40,000.00 missing)",
    )


def test_a_line_outside_the_stated_period():
    table = full_rows()
    table[1][2] = "23-04-2026 00:00:00"
    proof = proof_of(table)
    assert proof.discrepancies == (
        "line 22: completed 22-04-2026 10:00:00, outside the period",
        "line 23: completed 22-04-2026 10:00:00, outside the period",
    )
    assert "lines within the stated period" in proof.checked


def test_only_the_first_discrepancies_of_a_kind_are_spelled_out():
    lines = many_lines(200)
    body = list(rows(lines, Style(), opening=Decimal("1000.00")))
    for row in body[6 : 6 + 120]:
        row[7] = "1.00"  # every balance wrong
    proof = statement_proof(open_statement(csv_bytes(body)))
    breaks = [d for d in proof.discrepancies if "does not follow from line" in d]
    assert len(breaks) == MAX_LISTED
    [more] = [d for d in proof.discrepancies if d.startswith("... and ")]
    assert more.endswith(" more breaks")


def test_opening_and_closing_balances_alone_are_proof():
    lines = many_lines(30)
    body = list(rows(lines, Style(preamble="totals"), opening=Decimal("500.00")))
    body[3] = body[3][:4]  # keep Opening and Closing Balance, drop the rest
    proof = statement_proof(open_statement(csv_bytes(body)))
    assert proof.complete
    assert "Total Paid In" not in proof.checked


def test_one_total_alone_is_no_proof():
    lines = many_lines(30)
    body = list(rows(lines, Style(preamble="totals"), opening=Decimal("500.00")))
    body[3] = body[3][6:8]  # Total Paid In only
    proof = statement_proof(open_statement(csv_bytes(body)))
    assert (proof.complete, proof.discrepancies) == (False, ())
    assert proof.checked[:2] == ("every row read", "Total Paid In")


def test_what_the_proof_counts():
    proof = statement_proof(open_statement(FULL.read_bytes()))
    assert (proof.lines, proof.completed_lines, proof.problems) == (17, 16, 0)
    assert proof.first_completed_at is not None and proof.last_completed_at is not None
    assert proof.first_completed_at.isoformat() == "2026-04-22T10:00:00+03:00"
    assert proof.last_completed_at.isoformat() == "2026-04-30T23:30:00+03:00"
    assert proof.period_stated


def test_lines_without_a_balance_are_carried_to_the_next_line_that_has_one():
    table = full_rows()
    table[10][7] = ""  # SE94MN5BVC's charge shows no balance
    assert proof_of(table).complete


def test_a_statement_without_balances_still_counts_its_money():
    table = [row[:7] + row[8:] if len(row) > 8 else row for row in full_rows()]
    proof = proof_of(table)
    assert proof.complete
    assert proof.notes == ("the lines carry no Balance: the running balance could not be checked",)
    assert proof.order == ""


def test_the_order_follows_the_balances_when_every_line_has_one_time():
    lines = many_lines(6)
    same = [replace(line, completed_at=lines[0].completed_at) for line in lines]
    for newest_first in (True, False):
        style = Style(newest_first=newest_first)
        proof = statement_proof(open_statement(csv_bytes(rows(same, style, opening=Decimal(0)))))
        assert proof.complete, proof.discrepancies
        assert proof.order == ("newest first" if newest_first else "oldest first")

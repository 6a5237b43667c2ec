"""M-Pesa Org-portal statements: read what Safaricom says happened, and prove it is all there.

``open_statement(data, filename=...)`` takes a downloaded statement's bytes and returns a
``Statement`` (or raises ``StatementError``, and nothing else); ``Statement.rows()`` streams its
lines (``StatementLine``, or ``LineProblem`` for a row that cannot be read), afresh from the
bytes on every call; ``statement_proof(statement)`` says whether they add up to what the
preamble states. No Django, no database: pure reading. One door per format (``csv``, ``xlsx``,
``xls``); the rest is shared: ``header`` (columns by meaning), ``preamble`` (labels),
``cells`` (money, times, text), ``classify`` (line kinds), ``reader``, ``proof``.

Variants read, each with its fixture in ``tests/fixtures/``:

- ``classic_separate_period.csv``: the classic export: a preamble (``Organization Name:``,
  ``Organization Short Code:``, ``Account:``, ``Report Time:``) with the period's bounds in
  separate cells (``Time Period:, From, <start>, To, <end>``), the 13-column header, times
  ``DD-MM-YYYY HH:MM:SS``, amounts with thousands separators, masked ``Other Party Info``
  (``2547******311 - NAME``), Failed and Cancelled lines kept but not counted.
- ``classic_one_cell_period.csv``: the period in one cell (``From <start> To <end>``), as the
  Daraja emulator writes it, with ``Details`` that are only the reason type.
- ``full_preamble_totals.csv``: the fuller preamble (``Short Code:``; ``Operator:``,
  ``Organization:``, ``Date of Report:`` on one row; ``Opening Balance:``, ``Closing Balance:``,
  ``Available Balance:``, ``Total Paid In:``, ``Total Withdrawn:`` on one row), a ``Pay Bill
  Charge`` line beside each payment sharing its receipt, a sweep (``Utility Account to
  Organization Settlement Account``, a Paid In and a Withdrawn line sharing one receipt), a
  reversal (reversed receipt in ``Linked Transaction ID``), an ``A/C No.`` of ``Schemes``, a
  Failed line, and every way a customer pays seen so far: ``Pay Bill from``, ``Pay Bill Online
  from``, ``Small Business Pay Bill from``, ``Merchant Pay Utility Received from``, ``Business
  Pay Bill via API by`` (a bank) and ``FSI to Pay Bill by``.
- ``currency_negative_withdrawn.csv``: a 14th ``Currency`` column, withdrawals (and Total
  Withdrawn) written as negative numbers, ``YYYY-MM-DD`` times, no thousands separators, a
  Declined line.
- ``newer_no_preamble.csv``: the newer download: no preamble, header ``Receipt No, Completion
  Time, Details, Transaction Status, Paid In (KSHs), Withdrawn (KSHs), Balance (KSHs)``, payer
  and account only inside ``Details`` (``Pay Bill from 2547****376 - JANE **** DOE Acc.
  NS0207``), masked names; the period is then the first line's time to the last's.
- ``day_month_slash_oldest_first.csv``: ``DD/MM/YYYY`` times, a period of dates alone, lines
  oldest first.
- ``real_numbers_datetimes.xlsx``: the fuller statement as XLSX, amounts as numbers, times and
  the period's bounds as real date-times, the shortcode as a number.
- ``excel97_unmasked.xls``: the older Excel 97 export, ``YYYY-MM-DD HH:MM:SS`` times as text,
  full phone numbers (``0722926212 - CYNTHIA OMONDI``).

Also read, and tested without a fixture of their own: semicolon- or tab-separated CSV; UTF-16,
Windows-1252 and BOM'd UTF-8 CSV; a repeated header row (skipped); a statement on a later
sheet; Excel-written XLSX (shared strings, date styles, the 1904 date system); AM/PM times and
Excel serial days. Lines may come newest first (the portal's order) or oldest first: the order
is told by the first and last lines' times (or, when equal, by which reading the balances
follow), and only the proof needs it.
"""

from reconciliation.statements.model import (
    LineKind,
    LineProblem,
    Preamble,
    StatementError,
    StatementLine,
)
from reconciliation.statements.proof import Proof, statement_proof
from reconciliation.statements.reader import Statement, open_statement

__all__ = [
    "LineKind",
    "LineProblem",
    "Preamble",
    "Proof",
    "Statement",
    "StatementError",
    "StatementLine",
    "open_statement",
    "statement_proof",
]

"""M-Pesa Org-portal statements: read what Safaricom says happened, and prove it is all there.

``open_statement(data, filename=...)`` takes a downloaded statement's bytes and returns a
``Statement`` (or raises ``StatementError``); ``Statement.rows()`` streams its lines;
``statement_proof(statement)`` says whether they add up to what the preamble states.
No Django, no database: pure reading.
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

"""How long a big statement takes to read and how much memory it needs (not a test).

``python -m reconciliation.statements.tests.measure [--lines 100000]`` writes a generated
statement of that many lines as CSV and as XLSX, then, for each, in a fresh process: reads the
bytes, opens the statement, proves it (one pass) and reads every line again as an import would
(a second pass), and prints the time of each step and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from reconciliation.statements import LineKind, StatementLine, open_statement, statement_proof
from reconciliation.statements.tests.generate import Style, csv_bytes, many_lines, rows
from reconciliation.statements.tests.workbooks import xlsx_bytes


def write(lines: int, folder: Path) -> list[Path]:
    generated = many_lines(lines)
    opening = Decimal("250000.00")
    csv_path, xlsx_path = folder / "statement.csv", folder / "statement.xlsx"
    csv_path.write_bytes(csv_bytes(rows(generated, Style(), opening=opening)))
    xlsx_path.write_bytes(xlsx_bytes(rows(generated, Style(typed=True), opening=opening)))
    return [csv_path, xlsx_path]


def measure(path: Path) -> dict[str, object]:
    """Run in a fresh process: the import's two passes over one file."""
    started = time.perf_counter()
    data = path.read_bytes()
    statement = open_statement(data, filename=path.name)
    opened = time.perf_counter()
    proof = statement_proof(statement)
    proved = time.perf_counter()
    payments, paid_in = 0, Decimal("0.00")
    for line in statement.rows():
        if isinstance(line, StatementLine) and line.completed and line.kind is LineKind.PAYMENT:
            payments += 1
            paid_in += line.paid_in
    done = time.perf_counter()
    return {
        "file": path.name,
        "megabytes": round(len(data) / 1e6, 1),
        "lines": proof.lines,
        "complete": proof.complete,
        "payments": payments,
        "open_s": round(opened - started, 2),
        "proof_pass_s": round(proved - opened, 2),
        "second_pass_s": round(done - proved, 2),
        "total_s": round(done - started, 2),
        "peak_rss_mb": _peak_megabytes(),
    }


def _peak_megabytes() -> float:
    """This process's peak resident memory. Not ``getrusage``: on Linux its ``ru_maxrss``
    carries the parent's peak across ``exec``."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--read", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.read:
        print(json.dumps(measure(arguments.read)))
        return
    with tempfile.TemporaryDirectory() as folder:
        for path in write(arguments.lines, Path(folder)):
            module = "reconciliation.statements.tests.measure"
            command = [sys.executable, "-m", module, "--read", str(path)]
            result = subprocess.run(command, capture_output=True, text=True, check=True)
            print(result.stdout.strip())


if __name__ == "__main__":
    main()

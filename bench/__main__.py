"""``python -m bench [capture|staff|reconcile|all] [options]``: run the benchmarks, capture first.

``capture`` options go to bench.capture (``python -m bench capture --help``); ``staff`` runs
bench.staff_scale; ``reconcile`` runs bench.reconcile (a 100,000-line statement against
100,000 payments). Exit status is non-zero when a part failed (for the
capture part: wrong answers, or payments lost or stored twice), not when a target was missed.
"""

from __future__ import annotations

import subprocess
import sys

from bench import capture

PARTS = ("capture", "staff", "reconcile", "all")


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    part, rest = ("all", argv)
    if argv and argv[0] in PARTS:
        part, rest = argv[0], argv[1:]
    status = 0
    if part in ("capture", "all"):
        status |= capture.main(rest if part == "capture" else [])
    if part in ("staff", "all"):
        print("\n== Staff web app at scale (bench.staff_scale) ==", flush=True)
        cmd = [sys.executable, "-m", "bench.staff_scale", *(rest if part == "staff" else [])]
        status |= subprocess.run(cmd, check=False).returncode  # noqa: S603
    if part in ("reconcile", "all"):
        print("\n== Reconciliation at scale (bench.reconcile) ==", flush=True)
        cmd = [sys.executable, "-m", "bench.reconcile", *(rest if part == "reconcile" else [])]
        status |= subprocess.run(cmd, check=False).returncode  # noqa: S603
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

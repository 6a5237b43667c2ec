import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from members.services import ImportFileError, members_import_file


class Command(BaseCommand):
    help = (
        "Create or update members from a CSV file with the columns member_number, name, phone "
        "(several separated by ';') and status (active, dormant, suspended, exited; empty means "
        "active). Prints rows created, updated and rejected with line number and reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="CSV file, UTF-8, header row first.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row and report; write nothing."
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar (it is off when not a TTY)."
        )

    def handle(self, *args, file: Path, dry_run=False, no_progress=False, **options):
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        progress = _ProgressBars(file) if not no_progress and sys.stderr.isatty() else None
        started = time.monotonic()
        try:
            report = members_import_file(path=file, dry_run=dry_run, progress=progress)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        finally:
            if progress:
                progress.close()
        elapsed = time.monotonic() - started

        for row in report.rejected:
            self.stderr.write(
                f"line {row.line}: rejected {row.number or '(no number)'}: {row.reason}"
            )
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            f"{verb} {report.total} rows in {elapsed:.1f}s: {report.created} created, "
            f"{report.updated} updated, {report.unchanged} unchanged, "
            f"{len(report.rejected)} rejected."
        )


class _ProgressBars:
    """One tqdm bar per phase (reading the file, writing to the database), on standard error."""

    def __init__(self, file: Path) -> None:
        with file.open("rb") as raw:
            self.lines = max(sum(1 for _ in raw) - 1, 0)
        self.phase = ""
        self.bar = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase != self.phase:
            from tqdm import tqdm

            self.close()
            self.phase = phase
            self.bar = tqdm(
                total=total or self.lines, unit="row", desc=f"{phase:8}", file=sys.stderr
            )
        self.bar.update(done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

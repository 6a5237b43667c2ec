import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.eat import EAT
from reconciliation.importing import StatementRefused, statement_import


class Command(BaseCommand):
    help = (
        "Import an M-Pesa Org-portal statement (CSV, XLSX or XLS) so reconcile can compare it "
        "with the ledger. A file that does not add up is refused unless --force; the same file "
        "twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--shortcode", default="", help="When the file does not say which it is for."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Import a statement that does not add up (recorded as forced: never proof).",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, file: Path, shortcode="", force=False, no_progress=False, **options):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from None
        bar = None
        if not no_progress and sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(unit=" lines", desc="Storing", file=sys.stderr)
        try:
            report = statement_import(
                data=data,
                filename=file.name,
                shortcode=shortcode,
                force=force,
                user="import_statement",
                progress=bar.update if bar else None,
            )
        except StatementRefused as exc:
            raise CommandError("\n".join(exc.reasons)) from None
        finally:
            if bar is not None:
                bar.close()
        statement = report.statement
        if report.already_imported:
            when = statement.imported_at.astimezone(EAT)
            self.stdout.write(
                f"Already imported on {when:%Y-%m-%d %H:%M} EAT (statement #{statement.pk}): "
                "nothing changed."
            )
            return
        for problem in report.problems:
            self.stderr.write(f"line {problem['row']}: not read: {problem['reason']}")
        proof = "proven complete" if statement.proven else "not proven complete"
        if statement.forced:
            proof = "FORCED although it does not add up"
        start, end = statement.period_start.astimezone(EAT), statement.period_end.astimezone(EAT)
        self.stdout.write(
            f"Imported statement #{statement.pk} for {statement.shortcode.number} "
            f"({start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} EAT): {report.lines} lines, "
            f"{report.new_lines} new, {report.known_lines} already known, "
            f"{len(report.problems)} unreadable; {proof}."
        )

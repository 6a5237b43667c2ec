"""The Reconciliation pages: upload a statement, run a comparison, see its findings, check a
receipt with M-Pesa, mark a finding reviewed. Each view parses its form, calls one service or
selector of the reconciliation room, and renders or redirects with a message."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from c2b.models import Shortcode
from core.eat import EAT, eat_moment
from daraja.errors import DarajaError
from reconciliation import selectors
from reconciliation.importing import StatementRefused, statement_import
from reconciliation.matching import reconciliation_run
from reconciliation.models import ReconciliationItem, ReconciliationRun
from reconciliation.reports import report_rows
from reconciliation.services import ReviewRefused, item_review
from reconciliation.status import VerifyRefused, payment_verify
from staff.auth import staff_required
from staff.views import Echo, redirect_target

logger = logging.getLogger(__name__)


def _shortcodes(blank: str) -> list[tuple[str, str]]:
    return [("", blank)] + [
        (number, number) for number in Shortcode.objects.values_list("number", flat=True)
    ]


class StatementUploadForm(forms.Form):
    file = forms.FileField(label="Statement file (CSV, XLSX or XLS)")
    shortcode = forms.ChoiceField(required=False, label="Shortcode")
    force = forms.BooleanField(
        required=False,
        label="Import even if it does not add up (recorded as forced; never proof)",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["shortcode"].choices = _shortcodes("As the file says")

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        limit = settings.STATEMENT_UPLOAD_MAX_MB
        if upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(f"The file is over {limit} MB; is it a statement?")
        return upload


class RunForm(forms.Form):
    shortcode = forms.ChoiceField(required=False, label="Shortcodes")
    since = forms.DateField(required=False, label="From (EAT)")
    until = forms.DateField(required=False, label="To (EAT, inclusive)")
    backfill = forms.BooleanField(
        required=False, label="Store the missing payments (members get their SMS receipts)"
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["shortcode"].choices = _shortcodes("All")


class VerifyForm(forms.Form):
    trans_id = forms.RegexField(regex=r"^[A-Za-z0-9]{6,32}$", label="M-Pesa receipt")
    shortcode = forms.ChoiceField(required=False, label="Shortcode")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["shortcode"].choices = _shortcodes("The payment's, if known")


@require_GET
@staff_required
def overview(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "staff/reconciliation.html",
        {
            "upload": StatementUploadForm(),
            "run_form": RunForm(),
            "verify": VerifyForm(),
            "statements": selectors.statements_recent(),
            "runs": selectors.runs_recent(),
            "sweeps": selectors.pull_sweeps_recent(limit=10),
            "health": selectors.reconciliation_health(),
        },
    )


@require_POST
@staff_required
def statement_upload(request: HttpRequest) -> HttpResponse:
    form = StatementUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("staff:reconciliation")
    upload = form.cleaned_data["file"]
    try:
        report = statement_import(
            data=upload.read(),
            filename=upload.name,
            shortcode=form.cleaned_data["shortcode"],
            force=form.cleaned_data["force"],
            user=str(request.user),
        )
    except StatementRefused as exc:
        messages.error(request, " ".join(exc.reasons))
        return redirect("staff:reconciliation")
    statement = report.statement
    if report.already_imported:
        when = statement.imported_at.astimezone(EAT).strftime("%d %b %Y %H:%M")
        messages.info(request, f"This file was already imported on {when}: nothing changed.")
    else:
        unread = f"; {len(report.problems)} rows could not be read" if report.problems else ""
        messages.success(
            request,
            f"Statement for {statement.shortcode.number} imported: {report.lines} lines, "
            f"{report.new_lines} new{unread}. "
            + ("It adds up." if statement.proven else "It is not proven complete."),
        )
        logger.info("Statement %s uploaded by %s", statement.pk, request.user)
    return redirect("staff:reconciliation")


@require_POST
@staff_required
def run_start(request: HttpRequest) -> HttpResponse:
    form = RunForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The dates are not valid.")
        return redirect("staff:reconciliation")
    data = form.cleaned_data
    shortcode = Shortcode.objects.filter(number=data["shortcode"]).first()
    run = reconciliation_run(
        shortcode=shortcode,
        since=eat_moment(data["since"].isoformat()) if data["since"] else None,
        until=eat_moment(data["until"].isoformat(), end_of_day=True) if data["until"] else None,
        backfill=data["backfill"],
        user=str(request.user),
    )
    return redirect("staff:reconciliation_run", run_id=run.pk)


@require_GET
@staff_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(ReconciliationRun.objects.select_related("shortcode"), pk=run_id)
    outcome = request.GET.get("outcome", "")
    if outcome not in ReconciliationItem.Outcome.values:
        outcome = ""
    return render(
        request,
        "staff/reconciliation_run.html",
        {
            "run": run,
            "outcomes": selectors.run_outcomes(run),
            "outcome": outcome,
            "items": selectors.run_items(run, outcome=outcome),
        },
    )


@require_GET
@staff_required
def run_report(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(ReconciliationRun, pk=run_id)
    writer = csv.writer(Echo(), lineterminator="\r\n")
    outcome = request.GET.get("outcome", "")
    rows: Iterator[str] = (writer.writerow(row) for row in report_rows(run, outcome=outcome))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="reconciliation-{run.pk}.csv"'
    return response


@require_POST
@staff_required
def item_reviewed(request: HttpRequest, item_id: int) -> HttpResponse:
    try:
        item = item_review(
            item_id=item_id, note=request.POST.get("note", ""), user=str(request.user)
        )
    except ReviewRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{item.trans_id} marked reviewed.")
    return redirect(redirect_target(request))


@require_POST
@staff_required
def verify(request: HttpRequest) -> HttpResponse:
    form = VerifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That is not an M-Pesa receipt number.")
        return redirect(redirect_target(request))
    shortcode = Shortcode.objects.filter(number=form.cleaned_data["shortcode"]).first()
    try:
        check = payment_verify(
            trans_id=form.cleaned_data["trans_id"], shortcode=shortcode, user=str(request.user)
        )
    except (VerifyRefused, DarajaError) as exc:
        messages.error(request, f"Not asked: {exc}")
        return redirect(redirect_target(request))
    messages.success(
        request,
        f"Asked M-Pesa about {check.trans_id}; its answer shows on the payment's page in a few "
        "seconds.",
    )
    target = redirect_target(request)
    if target == reverse("staff:attention"):
        target = reverse("staff:transaction", args=[check.trans_id])
    return redirect(target)

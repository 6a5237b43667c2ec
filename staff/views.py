"""Staff pages: parse the request, call one selector or service, render.

Every view is ``staff_required``. Filters travel in the query string, so any view of the list
(and its exports) can be bookmarked and shared.
"""

from __future__ import annotations

import csv
import logging
import tempfile
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from c2b.exports import EXPORT_HEADER, export_queryset, export_rows, payment_export_values
from c2b.models import CallbackReceipt, Payment
from core.eat import EAT
from members.selectors import member_matches_for
from staff import selectors, services
from staff.auth import staff_required
from staff.charts import daily_chart
from staff.forms import PaymentFilter, PaymentFilterForm

logger = logging.getLogger(__name__)


def _filter_from(request: HttpRequest) -> tuple[PaymentFilterForm, PaymentFilter | None]:
    if not request.GET:
        return PaymentFilterForm(), PaymentFilter()
    form = PaymentFilterForm(request.GET)
    if form.is_valid():
        return form, form.payment_filter()
    return form, None


@require_GET
@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    data = selectors.dashboard()
    return render(
        request,
        "staff/dashboard.html",
        {
            "board": data,
            "chart": daily_chart(data.days),
            "threshold": settings.STAFF_SILENCE_WARNING_MINUTES,
            "hours": settings.STAFF_BUSINESS_HOURS,
            "today_query": f"since={data.now.astimezone(EAT).date().isoformat()}",
        },
    )


@require_GET
@staff_required
def transaction_list(request: HttpRequest) -> HttpResponse:
    form, flt = _filter_from(request)
    if flt is None:
        return render(request, "staff/transactions.html", {"form": form, "page": None}, status=400)
    raw_page = request.GET.get("page", "")
    cursor = selectors.Cursor.decode(raw_page)
    if raw_page and cursor is None and raw_page != "1":
        messages.info(request, "That page link is not valid any more; showing the newest first.")
    payments = selectors.payments_for(flt)
    page = selectors.payments_page(payments, cursor=cursor, size=settings.STAFF_PAGE_SIZE)
    query = flt.querystring()
    matches = member_matches_for(payment_ids=[payment.pk for payment in page.rows])
    for payment in page.rows:
        payment.staff_match = matches.get(payment.pk)
    return render(
        request,
        "staff/transactions.html",
        {
            "form": form,
            "filter": flt,
            "page": page,
            "totals": selectors.payments_totals(flt, payments),
            "query": query,
            "query_amp": f"{query}&" if query else "",
        },
    )


@require_GET
@staff_required
def transaction_detail(request: HttpRequest, trans_id: str) -> HttpResponse:
    detail = selectors.payment_detail(trans_id=trans_id)
    if detail is None:
        raise Http404("No payment or callback has this receipt number.")
    return render(request, "staff/transaction_detail.html", {"detail": detail})


def _export_name(extension: str) -> str:
    return f"neno-payments-{timezone.now().astimezone(EAT):%Y%m%d-%H%M}.{extension}"


class Echo:
    """A file-like object that hands back what the csv writer writes, for streaming."""

    def write(self, value: str) -> str:
        return value


@require_GET
@staff_required
def export_csv(request: HttpRequest) -> HttpResponse:
    _, flt = _filter_from(request)
    if flt is None:
        return HttpResponseBadRequest("The filter is not valid; fix it on the list page.")
    logger.info("CSV export by %s: %s", request.user, flt.querystring() or "everything")
    writer = csv.writer(Echo(), lineterminator="\r\n")
    rows: Iterator[str] = (writer.writerow(row) for row in export_rows(selectors.payments_for(flt)))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_name("csv")}"'
    return response


@require_GET
@staff_required
def export_xlsx(request: HttpRequest) -> HttpResponse:
    _, flt = _filter_from(request)
    if flt is None:
        return HttpResponseBadRequest("The filter is not valid; fix it on the list page.")
    payments = selectors.payments_for(flt)
    limit = settings.STAFF_XLSX_MAX_ROWS
    if payments.order_by()[limit : limit + 1].exists():
        return HttpResponseBadRequest(
            f"More than {limit:,} payments match: narrow the filter, or use the CSV export, "
            "which has no limit.",
            content_type="text/plain; charset=utf-8",
        )
    logger.info("XLSX export by %s: %s", request.user, flt.querystring() or "everything")
    # Write-only mode streams rows to a temporary file instead of building the sheet in memory.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Payments")
    sheet.append(EXPORT_HEADER)
    for payment in export_queryset(payments).iterator(chunk_size=2000):
        sheet.append(_xlsx_row(sheet, payment))
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    workbook.save(output)
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=_export_name("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _xlsx_row(sheet: Any, payment: Payment) -> list[object]:
    """The CSV row's cells (text already neutralised), with real numbers and real date-times."""
    row: list[object] = []
    for value in payment_export_values(payment):
        if isinstance(value, Decimal):
            row.append(_cell(sheet, value, "#,##0.00"))
        elif isinstance(value, datetime):
            # Spreadsheets have no time zones: write the EAT wall-clock time the export promises.
            row.append(_cell(sheet, value.astimezone(EAT).replace(tzinfo=None), _XLSX_TIME))
        else:
            row.append("" if value is None else value)
    return row


_XLSX_TIME = "yyyy-mm-dd hh:mm:ss"


def _cell(sheet: Any, value: object, number_format: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


@require_GET
@staff_required
def attention(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/attention.html", {"items": selectors.attention()})


@require_POST
@staff_required
def receipt_reprocess(request: HttpRequest, receipt_id: int) -> HttpResponse:
    receipt = get_object_or_404(CallbackReceipt, pk=receipt_id)
    try:
        outcome = services.receipt_reprocess(receipt=receipt, user=str(request.user))
    except services.ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        level = (
            messages.ERROR if receipt.status == CallbackReceipt.Status.FAILED else messages.SUCCESS
        )
        messages.add_message(request, level, outcome)
    return redirect(redirect_target(request))


@require_POST
@staff_required
def sms_resend(request: HttpRequest, sms_id: int) -> HttpResponse:
    try:
        outcome = services.sms_resend(sms_id=sms_id, user=str(request.user))
    except services.ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, outcome)
    return redirect(redirect_target(request))


def redirect_target(request: HttpRequest) -> str:
    """Where to return after an action: a local path from the form, else the attention page."""
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return reverse("staff:attention")

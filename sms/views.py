"""Africa's Talking posts delivery reports here (form-encoded), with our token in the path."""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from sms.services import sms_delivery_report_record

logger = logging.getLogger(__name__)

FIELDS = ("id", "status", "phoneNumber", "networkCode", "failureReason", "retryCount")


def _token_ok(token: str) -> bool:
    found = False
    for accepted in settings.SMS_DELIVERY_REPORT_TOKENS:
        found |= hmac.compare_digest(token.encode(), accepted.encode())
    return found


@csrf_exempt
def delivery_report(request: HttpRequest, token: str) -> HttpResponse:
    if not _token_ok(token):
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    fields = {name: request.POST.get(name, "").strip() for name in FIELDS}
    if not fields["id"] or not fields["status"]:
        return HttpResponse("id and status are required", status=400, content_type="text/plain")
    sms_delivery_report_record(fields={k: v for k, v in fields.items() if v})
    return HttpResponse("OK", content_type="text/plain")

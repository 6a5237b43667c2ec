"""Africa's Talking posts delivery reports here (form-encoded), with our token in the path."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from core.secrets import token_matches
from sms.backends.africastalking import ReportError, delivery_event
from sms.services import sms_delivery_event_record


@csrf_exempt
def delivery_report(request: HttpRequest, token: str) -> HttpResponse:
    if not token_matches(token, settings.SMS_DELIVERY_REPORT_TOKENS):
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        event = delivery_event(request.POST)
    except ReportError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    sms_delivery_event_record(event=event)
    return HttpResponse("OK", content_type="text/plain")

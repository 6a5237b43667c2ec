"""Where Daraja posts results to us: Transaction Status results and timeouts, Pull notices.

Guarded like the C2B callbacks (c2b/views.py): a secret token in the path and Safaricom's
source addresses, a refusal of either looking exactly like a wrong address (404); then the
body is committed raw before it is read, so nothing that arrived is lost.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from core.requests import callback_read
from reconciliation.status import daraja_result_process, daraja_result_store

logger = logging.getLogger(__name__)

RECEIVED = {"ResultCode": 0, "ResultDesc": "Received"}


@csrf_exempt
def daraja_result(request: HttpRequest, token: str, kind: str) -> HttpResponse:
    checked = callback_read(
        request,
        token=token,
        tokens=settings.C2B_CALLBACK_TOKENS,
        limit=settings.C2B_MAX_BODY_BYTES,
        what=f"Daraja {kind}",
    )
    if isinstance(checked, HttpResponse):
        return checked
    body, source = checked
    try:
        result = daraja_result_store(kind=kind, body=body, source_ip=source)
    except DatabaseError:
        logger.exception("Database unavailable: Daraja %s not stored", kind)
        return JsonResponse({"ResultCode": 1, "ResultDesc": "Unavailable"}, status=503)
    try:
        daraja_result_process(result=result)
    except DatabaseError:
        # Kept raw and 'received': staff see it, and reading it again is safe.
        logger.exception("Database error while reading Daraja result %s", result.pk)
    return JsonResponse(RECEIVED)

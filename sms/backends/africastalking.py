"""Africa's Talking, through its official SDK (``africastalking==2.0.3``).

The SDK posts the form ``username, to, message, bulkSMSMode[, from]`` to
``/version1/messaging`` with the ``apiKey`` header; the username ``sandbox`` selects the sandbox
host. It hides the HTTP status of an error (it raises ``AfricasTalkingException`` with the body),
so errors are classified from the body text and from the per-recipient ``statusCode``:
1xx taken, 405 (no credit) and 5xx temporary, other 4xx permanent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import requests
from africastalking.Service import AfricasTalkingException
from africastalking.SMS import SMSService
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from sms.backends.base import (
    DeliveryEvent,
    DeliveryState,
    SendResult,
    SmsBackend,
    SmsSendError,
)

# Per-recipient codes: 100 Processed, 101 Sent, 102 Queued, 401 RiskHold, 402 InvalidSenderId,
# 403 InvalidPhoneNumber, 404 UnsupportedNumberType, 405 InsufficientBalance, 406 UserInBlacklist,
# 407 CouldNotRoute, 409 DoNotDisturbRejection, 500 InternalServerError, 501 GatewayError,
# 502 RejectedByGateway.
TEMPORARY_CODES = {405, 500, 501, 502}
_CLIENT_ERROR = re.compile(r"authenticat|unauthori[sz]ed|forbidden|invalid|missing", re.I)


class AfricasTalkingBackend(SmsBackend):
    name = "africastalking"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        username = settings.AFRICASTALKING_USERNAME
        api_key = settings.AFRICASTALKING_API_KEY
        if not username or not api_key:
            raise ImproperlyConfigured(
                "SMS_BACKEND is africastalking: set AFRICASTALKING_USERNAME and "
                "AFRICASTALKING_API_KEY (username 'sandbox' for the sandbox)."
            )
        self.service = SMSService(username, api_key)
        self.sender_id = settings.AFRICASTALKING_SENDER_ID or None

    def send(self, *, to: str, text: str) -> SendResult:
        try:
            answer = self.service.send(text, [f"+{to}"], sender_id=self.sender_id)
        except ValueError as exc:  # the SDK's own phone check, before any request
            raise SmsSendError(str(exc), permanent=True) from None
        except requests.exceptions.ConnectTimeout:
            raise SmsSendError(
                "Africa's Talking did not accept a connection.", permanent=False
            ) from None
        except requests.exceptions.ReadTimeout:
            raise SmsSendError(
                "Africa's Talking did not answer in time: the SMS may have been sent, so it is "
                "not retried automatically (resend_sms sends it again).",
                permanent=True,
                ambiguous=True,
            ) from None
        except requests.exceptions.RequestException as exc:
            raise SmsSendError(
                f"Africa's Talking unreachable: {type(exc).__name__}.", permanent=False
            ) from None
        except AfricasTalkingException as exc:
            body = str(exc).strip()[:300] or "(empty body)"
            if _CLIENT_ERROR.search(body):
                raise SmsSendError(
                    f"Africa's Talking refused the request: {body}", permanent=True
                ) from None
            raise SmsSendError(f"Africa's Talking error: {body}", permanent=False) from None
        return _result(answer)


def _result(answer: Any) -> SendResult:
    if isinstance(answer, str):  # the SDK returns text unless content-type is exactly JSON
        try:
            answer = json.loads(answer)
        except ValueError:
            raise SmsSendError(
                f"Africa's Talking answered something unreadable: {answer[:200]!r}",
                permanent=True,
                ambiguous=True,
            ) from None
    data = answer.get("SMSMessageData", {}) if isinstance(answer, dict) else {}
    recipients = data.get("Recipients") or []
    if not recipients:
        raise SmsSendError(
            f"Africa's Talking sent to nobody: {data.get('Message') or answer}", permanent=True
        )
    recipient = recipients[0]
    try:
        code = int(recipient.get("statusCode"))
    except (TypeError, ValueError):
        code = 0
    status = str(recipient.get("status", ""))
    if 100 <= code < 200:
        return SendResult(
            provider_message_id=str(recipient.get("messageId", "")),
            provider_status=status,
            cost=str(recipient.get("cost", "")),
            raw=answer,
        )
    reason = f"Africa's Talking status {code} {status}".strip()
    raise SmsSendError(reason, permanent=code not in TEMPORARY_CODES)


# --- delivery reports -------------------------------------------------------------------------
# Africa's Talking posts a form to the delivery-report URL set in its dashboard. Its final words
# are Success (on the phone) and Failed or Rejected (the network gave up); anything else
# (Sent, Submitted, Buffered) is interim.
REPORT_FIELDS = ("id", "status", "phoneNumber", "networkCode", "failureReason", "retryCount")
_REPORT_STATES = {
    "Success": DeliveryState.DELIVERED,
    "Failed": DeliveryState.UNDELIVERED,
    "Rejected": DeliveryState.UNDELIVERED,
}


class ReportError(ValueError):
    """The form is not a delivery report; the message says what is missing."""


def delivery_event(form: Mapping[str, str]) -> DeliveryEvent:
    """Africa's Talking's delivery-report form as a ``DeliveryEvent``. Raises ``ReportError``
    when the message id or the status is missing."""
    fields = {name: (form.get(name) or "").strip() for name in REPORT_FIELDS}
    if not fields["id"] or not fields["status"]:
        raise ReportError("id and status are required")
    return DeliveryEvent(
        provider_message_id=fields["id"][:100],
        state=_REPORT_STATES.get(fields["status"], DeliveryState.PENDING),
        provider_status=fields["status"][:30],
        reason=fields["failureReason"][:100],
        network_code=fields["networkCode"][:10],
        phone=fields["phoneNumber"],
        raw={name: value for name, value in fields.items() if value},
    )

"""Daraja HTTP client: OAuth, C2B URL registration and simulation, and reconciliation's
Pull Transactions and Transaction Status.

Every call the project makes to Safaricom (or to the emulator) goes through ``DarajaClient``;
tests mock HTTP here and nowhere else. The OAuth token is kept in the shared Django cache so that
every process and host uses one token: Daraja's documentation says a new token invalidates the
previous one, so processes that each fetched their own would keep logging each other out. Every
call refreshes the token once, and retries once, when Daraja calls it invalid.

Calls return typed results (``DarajaReply``; ``PullRegistration``, ``PullPage`` and ``PullSweep``
from ``daraja.pull``; ``TransactionStatusAck`` from ``daraja.status``) or raise ``DarajaError``,
decided by Daraja's codes rather than by HTTP status alone. Requests Daraja would refuse or answer
misleadingly raise ``InvalidRequest`` (a ``DarajaError``) before anything is sent.
Transaction Status's answer arrives later on the ResultURL: read it with
``daraja.status.parse_transaction_status_result``; build its SecurityCredential with
``daraja.credential.security_credential``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx

from daraja import pull
from daraja.errors import DarajaError, InvalidRequest
from daraja.pull import PullPage, PullRegistration, PullSweep
from daraja.status import TransactionStatusAck

logger = logging.getLogger(__name__)

# Refresh this long before Daraja's stated expiry, so a token never expires mid-request.
EXPIRY_MARGIN_SECONDS = 60
_LOCK_SECONDS = 15
# Pull's NominatedNumber: a Safaricom line in the 2547XXXXXXXX (or newer 2541XXXXXXXX) form.
_NOMINATED_NUMBER = re.compile(r"254[71][0-9]{8}")


class Cache(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def set(self, key: str, value: Any, timeout: float | None = None) -> None: ...
    def add(self, key: str, value: Any, timeout: float | None = None) -> bool: ...
    def delete(self, key: str) -> Any: ...


@dataclass(frozen=True)
class DarajaReply:
    """An accepted request: Daraja's conversation id, its description, and the reply as sent."""

    originator_conversation_id: str
    description: str
    raw: dict[str, Any]


class DarajaClient:
    def __init__(
        self,
        *,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        cache: Cache,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not consumer_key or not consumer_secret:
            raise DarajaError(
                "Set DARAJA_CONSUMER_KEY and DARAJA_CONSUMER_SECRET (from the Daraja portal app)."
            )
        self.base_url = base_url.rstrip("/")
        self._key = consumer_key
        self._secret = consumer_secret
        self._cache = cache
        fingerprint = hashlib.sha256(f"{self.base_url}|{consumer_key}".encode()).hexdigest()[:16]
        self._token_key = f"daraja:token:{fingerprint}"
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DarajaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- OAuth -------------------------------------------------------------------------------

    def access_token(self, *, force_refresh: bool = False) -> str:
        if force_refresh:
            self._cache.delete(self._token_key)
        cached = self._cache.get(self._token_key)
        if cached:
            return cached
        # One process refreshes while the others wait briefly and pick up its token.
        if self._cache.add(f"{self._token_key}:lock", 1, timeout=_LOCK_SECONDS):
            try:
                return self._fetch_token()
            finally:
                self._cache.delete(f"{self._token_key}:lock")
        deadline = time.monotonic() + _LOCK_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.1)
            cached = self._cache.get(self._token_key)
            if cached:
                return cached
        return self._fetch_token()

    def _fetch_token(self) -> str:
        basic = base64.b64encode(f"{self._key}:{self._secret}".encode()).decode()
        response = self._send(
            "GET",
            "/oauth/v1/generate",
            params={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
        data = _json(response)
        if (
            response.status_code != 200
            or not isinstance(data, dict)
            or not data.get("access_token")
        ):
            raise DarajaError.from_response(response.status_code, data)
        try:
            lifetime = int(str(data.get("expires_in", "3599")).strip())
        except ValueError:
            lifetime = 3599
        token = str(data["access_token"])
        self._cache.set(self._token_key, token, timeout=max(lifetime - EXPIRY_MARGIN_SECONDS, 1))
        logger.info("Daraja access token refreshed (valid %ss)", lifetime)
        return token

    # --- C2B ---------------------------------------------------------------------------------

    def register_urls(
        self,
        *,
        shortcode: str,
        confirmation_url: str,
        validation_url: str,
        response_type: str,
        api_version: str = "v2",
    ) -> DarajaReply:
        data = self._authorised_post(
            f"/mpesa/c2b/{_version(api_version)}/registerurl",
            {
                "ShortCode": str(shortcode),
                "ResponseType": response_type,
                "ConfirmationURL": confirmation_url,
                "ValidationURL": validation_url,
            },
        )
        code = str(data.get("ResponseCode", "")).strip()
        description = str(data.get("ResponseDescription", "")).strip()
        # Current replies carry ResponseCode "0"; old v1 replies only said "success".
        if code == "0" or (not code and description.lower() == "success"):
            return DarajaReply(_conversation_id(data), description, data)
        raise DarajaError.from_response(200, data)

    def simulate(
        self,
        *,
        shortcode: str,
        command_id: str,
        amount: str,
        msisdn: str,
        bill_ref_number: str = "",
        api_version: str = "v2",
    ) -> DarajaReply:
        body: dict[str, Any] = {
            "ShortCode": str(shortcode),
            "CommandID": command_id,
            "Amount": str(amount),
            "Msisdn": str(msisdn),
        }
        if command_id == "CustomerPayBillOnline":
            body["BillRefNumber"] = bill_ref_number
        data = self._authorised_post(f"/mpesa/c2b/{_version(api_version)}/simulate", body)
        if str(data.get("ResponseCode", "")).strip() == "0":
            return DarajaReply(
                _conversation_id(data), str(data.get("ResponseDescription", "")), data
            )
        raise DarajaError.from_response(200, data)

    # --- Pull Transactions -------------------------------------------------------------------

    def pull_register(
        self, *, shortcode: str, nominated_number: str, callback_url: str
    ) -> PullRegistration:
        """Register ``shortcode`` for Pull Transactions (once; registering again is harmless).

        ``nominated_number`` is the organisation's nominated Safaricom number, ``2547XXXXXXXX``
        (shown in the M-Pesa Org portal under the organisation's details). Returns the
        registration with ``already_registered`` telling 1000 (registered now) from 1001
        (already registered); any other answer is a ``DarajaError``.
        """
        number = str(nominated_number).strip()
        if not _NOMINATED_NUMBER.fullmatch(number):
            raise InvalidRequest(
                "The Pull nominated number must be a Safaricom number in the 2547XXXXXXXX form "
                f"(got {_mask(number)!r})."
            )
        data = self._authorised_post(
            "/pulltransactions/v1/register",
            {
                "ShortCode": _shortcode(shortcode),
                "RequestType": "Pull",
                "NominatedNumber": number,
                "CallBackURL": callback_url,
            },
        )
        registration = pull.parse_register_reply(data)
        logger.info(
            "Pull registration for shortcode %s: %s (%s)",
            shortcode,
            "already registered" if registration.already_registered else "registered",
            registration.description,
        )
        return registration

    def pull_query(
        self, *, shortcode: str, start: datetime, end: datetime, offset: int = 0
    ) -> PullPage:
        """One page of the shortcode's payments between ``start`` and ``end`` (aware datetimes,
        at most 48 hours apart, within the last 48 hours; ``InvalidRequest`` otherwise).

        The 1001 answer (no records, or the shortcode is not set up for Pull) is an empty page
        with ``no_records`` set and Daraja's text in ``response_message``, not an error.
        Match records to payments by ``transaction_id``, never by time. Most callers want
        ``pull_sweep``, which reads every page.
        """
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidRequest(f"Pull offset must be a whole number >= 0 (got {offset!r}).")
        start_text, end_text = pull.pull_window(start, end)
        return self._pull_page(shortcode, start_text, end_text, offset)

    def pull_sweep(
        self,
        *,
        shortcode: str,
        start: datetime,
        end: datetime,
        max_pages: int = pull.DEFAULT_MAX_PAGES,
    ) -> PullSweep:
        """Every payment Pull lists for the window, each ``transaction_id`` once.

        Pages until an empty or repeated page, or ``max_pages`` requests (then ``complete`` is
        False); see ``daraja.pull.sweep`` for how ``OffSetValue`` is advanced. The window is
        checked before the first request.
        """
        # Checked once: a long sweep must not fail midway as its start ages past 48 hours.
        start_text, end_text = pull.pull_window(start, end)
        result = pull.sweep(
            lambda offset: self._pull_page(shortcode, start_text, end_text, offset),
            start=start,
            end=end,
            max_pages=max_pages,
        )
        logger.info(
            "Pull sweep of shortcode %s: %d records, %d unreadable, %d pages (%s)",
            shortcode,
            len(result.records),
            len(result.unreadable),
            len(result.pages),
            result.stop_reason,
        )
        return result

    def _pull_page(self, shortcode: str, start_text: str, end_text: str, offset: int) -> PullPage:
        data = self._authorised_post(
            "/pulltransactions/v1/query",
            {
                "ShortCode": _shortcode(shortcode),
                "StartDate": start_text,
                "EndDate": end_text,
                "OffSetValue": str(offset),
            },
        )
        return pull.parse_query_reply(data, offset=offset)

    # --- Transaction Status ------------------------------------------------------------------

    def transaction_status(
        self,
        *,
        shortcode: str,
        receipt: str,
        initiator: str,
        security_credential: str,
        result_url: str,
        queue_timeout_url: str,
        remarks: str = "Reconciliation",
        occasion: str = "",
    ) -> TransactionStatusAck:
        """Ask M-Pesa about the payment with M-Pesa receipt ``receipt`` on ``shortcode``.

        Returns Daraja's acknowledgement; the result is POSTed later to ``result_url`` (or to
        ``queue_timeout_url`` if the request expires in M-Pesa's queue): keep the ack's ids to
        match it. ``security_credential`` comes from ``daraja.credential.security_credential``.
        A refusal is a ``DarajaError`` (``404.001.03`` after a token refresh usually means the
        Transaction Status product is not enabled on the Daraja app).
        """
        required = {
            "receipt": receipt,
            "initiator": initiator,
            "security_credential": security_credential,
            "result_url": result_url,
            "queue_timeout_url": queue_timeout_url,
            "remarks": remarks,
        }
        for name, value in required.items():
            if not isinstance(value, str) or not value.strip():
                raise InvalidRequest(f"Transaction Status needs {name}; it is blank.")
        body = {
            "Initiator": initiator,
            "SecurityCredential": security_credential,
            "CommandID": "TransactionStatusQuery",
            "TransactionID": receipt.strip(),
            "PartyA": _shortcode(shortcode),
            "IdentifierType": "4",
            "ResultURL": result_url,
            "QueueTimeOutURL": queue_timeout_url,
            "Remarks": remarks,
        }
        if occasion:
            body["Occasion"] = occasion
        data = self._authorised_post("/mpesa/transactionstatus/v1/query", body)
        if str(data.get("ResponseCode", "")).strip() != "0":
            raise DarajaError.from_response(200, data)
        ack = TransactionStatusAck(
            conversation_id=str(data.get("ConversationID") or ""),
            originator_conversation_id=_conversation_id(data),
            description=str(data.get("ResponseDescription") or ""),
            raw=data,
        )
        logger.info(
            "Transaction Status query for %s on shortcode %s accepted (ConversationID %s)",
            receipt,
            shortcode,
            ack.conversation_id,
        )
        return ack

    # --- plumbing ----------------------------------------------------------------------------

    def _authorised_post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST with the shared token; on an invalid-token answer refresh once and retry once."""
        for attempt in (1, 2):
            token = self.access_token(force_refresh=attempt == 2)
            response = self._send(
                "POST", path, json=body, headers={"Authorization": f"Bearer {token}"}
            )
            data = _json(response)
            if response.status_code == 200 and isinstance(data, dict) and "errorCode" not in data:
                return data
            error = DarajaError.from_response(response.status_code, data)
            if attempt == 1 and error.is_invalid_token:
                logger.info("Daraja refused the token (%s); refreshing once", error.code)
                continue
            raise error
        raise AssertionError("unreachable")

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise DarajaError(f"Daraja did not answer in time ({self.base_url}{path}).") from exc
        except httpx.HTTPError as exc:
            raise DarajaError(f"Could not reach Daraja at {self.base_url}: {exc}") from exc


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"errorMessage": response.text[:200]}


def _version(api_version: str) -> str:
    if api_version not in ("v1", "v2"):
        raise DarajaError(f"Unknown Daraja C2B API version {api_version!r}: use v1 or v2.")
    return api_version


def _shortcode(shortcode: str) -> str:
    text = str(shortcode).strip()
    if not text:
        raise InvalidRequest("The shortcode is blank.")
    return text


def _mask(number: str) -> str:
    """A phone number fit for messages and logs: the first 4 and last 3 digits only."""
    return number if len(number) <= 7 else f"{number[:4]}{'*' * (len(number) - 7)}{number[-3:]}"


def _conversation_id(data: dict[str, Any]) -> str:
    # Daraja really spells it "OriginatorCoversationID"; accept the corrected spelling too.
    return str(data.get("OriginatorCoversationID") or data.get("OriginatorConversationID") or "")


def get_client(**overrides: Any) -> DarajaClient:
    """The client configured from Django settings (``DARAJA_*``)."""
    from django.conf import settings
    from django.core.cache import cache

    options: dict[str, Any] = {
        "base_url": settings.DARAJA_BASE_URL,
        "consumer_key": settings.DARAJA_CONSUMER_KEY,
        "consumer_secret": settings.DARAJA_CONSUMER_SECRET,
        "cache": cache,
        "timeout": settings.DARAJA_TIMEOUT_SECONDS,
    }
    options.update(overrides)
    return DarajaClient(**options)

"""Errors from the Daraja door, each with a message a person can act on.

``DarajaError`` is a failed call (or a request we refuse to send: ``InvalidRequest``);
``ResultParseError`` is an asynchronous result body we cannot read; ``CallbackURLRejected`` is a
URL Safaricom would refuse.
"""

from __future__ import annotations

# Daraja error codes, with what a person should do about them (../shared/daraja.md).
_ADVICE = {
    "400.008.01": "Daraja refused the consumer key/secret: check DARAJA_CONSUMER_KEY and "
    "DARAJA_CONSUMER_SECRET for this environment (sandbox and production keys differ).",
    "400.008.02": "Daraja refused the OAuth grant type (a bug in the client: please report it).",
    "500.003.1001": "URLs are already registered for this shortcode: delete them in the M-Pesa Org "
    "portal (or ask Safaricom support) first, then register again.",
    "400.003.02": "Daraja rejected the request as bad (often a URL it does not accept: "
    "public HTTPS host, no forbidden words).",
    "500.003.02": "Daraja is rate-limiting us (spike arrest): wait a minute and try again.",
    "500.003.03": "The Daraja app's quota is used up: try again later or raise it with Safaricom.",
    "401.003.01": "No API product match: the Daraja app is not entitled to this API, or to this "
    "version of it. Switch the shortcode's API version (v1/v2) or add the product to the app.",
    "404.001.03": "Daraja says the access token is invalid or expired; if a fresh token gets the "
    "same answer, this API (for example Transaction Status or Pull Transactions) is probably not "
    "enabled on the Daraja app: add the product to the app in the Daraja portal.",
    "400.003.01": "Daraja says the access token is invalid.",
    "401.002.01": "Daraja says the access token is invalid.",
}
INVALID_TOKEN_CODES = frozenset({"404.001.03", "400.003.01", "401.002.01", "401.003.01"})


class DarajaError(Exception):
    """A failed Daraja call, with a message a person can act on."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        http_status: int | None = None,
        request_id: str = "",
        daraja_message: str = "",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.request_id = request_id
        self.daraja_message = daraja_message

    @classmethod
    def from_response(cls, http_status: int, body: object) -> DarajaError:
        data = body if isinstance(body, dict) else {}
        # The gateway's envelope says errorCode/errorMessage; the APIs themselves answer HTTP 200
        # with ResponseCode (Pull register: ResponseStatus) and ResponseDescription (Pull
        # query: ResponseMessage).
        code = str(
            data.get("errorCode") or data.get("ResponseCode") or data.get("ResponseStatus") or ""
        ).strip()
        said = str(
            data.get("errorMessage")
            or data.get("ResponseDescription")
            or data.get("ResponseMessage")
            or ""
        ).strip()
        advice = _ADVICE.get(code)
        if advice:
            message = f"{advice} (Daraja {code}: {said})" if said else f"{advice} (Daraja {code})"
        elif said:
            message = f"Daraja answered HTTP {http_status}: {said}" + (f" ({code})" if code else "")
        else:
            message = f"Daraja answered HTTP {http_status} with no error details."
        return cls(
            message,
            code=code,
            http_status=http_status,
            request_id=str(data.get("requestId") or ""),
            daraja_message=said,
        )

    @property
    def is_invalid_token(self) -> bool:
        return self.code in INVALID_TOKEN_CODES


class InvalidRequest(DarajaError, ValueError):
    """A request we refuse to send, because Daraja would refuse it or answer it misleadingly.

    Nothing was sent. It is a ``DarajaError`` (callers handling failed calls see it) and a
    ``ValueError`` (it is the caller's arguments that are wrong).
    """


class ResultParseError(ValueError):
    """A body on our ResultURL/QueueTimeOutURL that is not a Daraja result we can read.

    ``reason`` says what is wrong, without echoing the body (it may carry phone numbers).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CallbackURLRejected(ValueError):
    """A callback URL that Safaricom would refuse; the message names the rule."""

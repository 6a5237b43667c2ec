"""The door every machine caller (M-Pesa's callbacks, Daraja's results) comes through: the
secret in the path, the source address, the method, and the body read whole or not at all."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse

from core.network import client_ip, source_ip_allowed
from core.secrets import token_matches

logger = logging.getLogger(__name__)


def callback_read(
    request: HttpRequest, *, token: str, tokens: Iterable[str], limit: int, what: str
) -> tuple[bytes, str] | HttpResponse:
    """``(body, source address)`` for a request that passes the cheap checks, else the answer
    to give (nothing is written either way). A wrong token and a refused source address raise
    the same ``Http404``, so an outsider cannot learn that a token is right (the log says why);
    then a method other than POST is 405, a body sent without Content-Length that the server
    did not read 411, one cut off by the client 400, one over ``limit`` bytes 413."""
    if not token_matches(token, tokens):
        raise Http404
    source = client_ip(request)
    if not source_ip_allowed(source):
        logger.warning("%s refused from address %s", what, source or "unknown")
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        body = read_body(request, limit)
    except LengthRequired:
        return _refusal(411, "Length Required: send the body with Content-Length.")
    except OSError:  # UnreadablePostError: the client went away mid-body; nothing to keep
        logger.warning("%s body could not be read (client disconnected?)", what)
        return _refusal(400, "Body not received.")
    if body is None:
        return _refusal(413, f"Body larger than {limit // 1024} KiB; not stored.")
    return body, source


def _refusal(status: int, why: str) -> JsonResponse:
    return JsonResponse({"ResultCode": 1, "ResultDesc": why}, status=status)


class LengthRequired(Exception):
    """A body sent without Content-Length that the web server did not read for us."""


def read_body(request: HttpRequest, limit: int) -> bytes | None:
    """The body, or ``None`` when it exceeds ``limit`` bytes (declared or actual).

    A chunked body (no Content-Length) is read only when the web server has de-chunked it and
    says so (``wsgi.input_terminated``); otherwise Django would read nothing and an empty
    stand-in would be kept in place of what was sent, so ``LengthRequired`` is raised (answer
    411). A body the client cut off raises ``OSError`` (Django's ``UnreadablePostError``)."""
    length = request.META.get("CONTENT_LENGTH") or ""
    if not length and request.META.get("HTTP_TRANSFER_ENCODING"):
        if not request.META.get("wsgi.input_terminated"):
            raise LengthRequired
        body = request.META["wsgi.input"].read(limit + 1)
        return None if len(body) > limit else body
    try:
        declared = int(length or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body

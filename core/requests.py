"""Reading a machine caller's request body whole, within a limit, or not at all."""

from __future__ import annotations

from django.http import HttpRequest


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

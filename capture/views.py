"""``/healthz``, for the load balancer and monitoring: is the database up, is capture keeping up."""

from __future__ import annotations

from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from capture.selectors import capture_backlog


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the database answers, with the capture backlog for monitoring (``late``: the
    oldest confirmation has waited over ``CAPTURE_LATE_AFTER``, 20 s, so no capture worker is
    running or it is not keeping up); 503 when the database does not answer."""
    try:
        backlog = capture_backlog()
    except DatabaseError:
        return JsonResponse({"status": "unhealthy", "database": "unreachable"}, status=503)
    return JsonResponse(
        {
            "status": "ok",
            "database": "ok",
            "capture": {
                "waiting": backlog.waiting,
                "oldest_seconds": backlog.oldest_seconds,
                "late": backlog.late,
            },
        }
    )

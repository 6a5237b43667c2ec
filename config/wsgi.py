"""The WSGI application servers run (``config.wsgi:application``).

Requests from machines, M-Pesa's callbacks, the SMS provider's delivery reports and the load
balancer's health check, skip Django's middleware: they carry no session, cookie or CSRF token,
and need none of the browser security headers, while the stack cost a fifth of each callback's
CPU (docs/benchmarks.md). Everything else, the staff app and the admin, goes through the full
stack in ``settings.MIDDLEWARE``. Both handlers share one URLconf, one set of views and Django's
own error handling (a view's exception still becomes a logged 500).
"""

import os

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

MACHINE_PATHS = ("/api/v1/c2b/", "/api/v1/sms/", "/api/v1/daraja/", "/healthz")


class MachineWSGIHandler(WSGIHandler):
    """Django's WSGI handler with no middleware: what ``MIDDLEWARE = []`` would build."""

    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._middleware_chain = convert_exception_to_response(self._get_response)

    def get_response(self, request):
        response = super().get_response(request)
        # What CommonMiddleware would add: the length, so no client has to wait for the close.
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))
        return response


browser_application = get_wsgi_application()  # sets Django up
machine_application = MachineWSGIHandler()


def application(environ, start_response):
    if environ.get("PATH_INFO", "").startswith(MACHINE_PATHS):
        return machine_application(environ, start_response)
    return browser_application(environ, start_response)

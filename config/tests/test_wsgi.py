"""The WSGI entry point: machine callbacks skip the browser middleware, staff pages keep it."""

import io
import json

import pytest

from config.wsgi import application
from factories import TOKEN, load_payload

pytestmark = pytest.mark.django_db(transaction=True)


def call(path: str, *, method: str = "GET", body: bytes = b"") -> tuple[str, dict[str, str], bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    seen: dict = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    response = application(environ, start_response)
    try:
        content = b"".join(response)
    finally:
        response.close()
    return seen["status"], seen["headers"], content


def test_callback_is_answered_without_browser_middleware(paybill):
    body = json.dumps(load_payload("confirmation_v2_masked")).encode()
    status, headers, content = call(f"/api/v1/c2b/{TOKEN}/confirmation", method="POST", body=body)
    assert status == "200 OK"
    assert json.loads(content) == {"ResultCode": 0, "ResultDesc": "Accepted"}
    assert headers["Content-Length"] == str(len(content))
    assert "Content-Security-Policy" not in headers
    assert "X-Frame-Options" not in headers


def test_callback_bug_still_becomes_a_500_not_a_crash(paybill, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("c2b.views.callback_receipt_store", broken)
    body = json.dumps(load_payload("confirmation_v2_masked")).encode()
    status, _, _ = call(f"/api/v1/c2b/{TOKEN}/confirmation", method="POST", body=body)
    assert status.startswith("500")


def test_health_check_skips_the_middleware_too():
    status, headers, content = call("/healthz")
    assert status == "200 OK"
    assert json.loads(content)["database"] == "ok"
    assert "Content-Security-Policy" not in headers


def test_staff_pages_keep_the_full_middleware():
    status, headers, _ = call("/accounts/login/")
    assert status == "200 OK"
    assert "Content-Security-Policy" in headers
    assert headers["X-Frame-Options"] == "DENY"

"""Browser-facing protections: CSP with the app's own assets only, framing, cookies."""

import re
from pathlib import Path

import pytest

from staff.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


@pytest.mark.parametrize("url", ["/accounts/login/", "/", "/transactions/", "/attention/"])
def test_every_page_sends_a_self_only_content_security_policy(staff_client, url):
    response = staff_client.get(url)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_templates_have_no_inline_script_style_or_outside_assets():
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert "<script" not in text, template
        assert not re.search(r"\sstyle=", text), template
        assert "<style" not in text, template
        assert not re.search(r"(src|href)=\"(https?:)?//", text), template


def test_the_stylesheet_is_served_by_the_app(staff_client):
    body = staff_client.get("/").content.decode()
    (href,) = re.findall(r'<link rel="stylesheet" href="([^"]+)"', body)
    assert href.startswith("/static/")
    response = staff_client.get(href)
    assert response.status_code == 200
    assert b".chart .bar" in b"".join(response.streaming_content)


def test_the_session_cookie_is_secure_and_http_only(client, cashier):
    response = client.post("/accounts/login/", {"username": "wanjiku", "password": PASSWORD})
    cookie = response.cookies["sessionid"]
    assert cookie["secure"]
    assert cookie["httponly"]
    assert response.cookies["csrftoken"]["secure"]

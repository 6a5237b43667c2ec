import pytest

from daraja.errors import CallbackURLRejected
from daraja.urlrules import check_callback_url

GOOD = "https://pay.nenosacco.co.ke/api/v1/c2b/Zk3_token/confirmation"


def test_public_https_url_passes_in_production():
    check_callback_url(GOOD, production=True)


@pytest.mark.parametrize(
    "word", ["mpesa", "M-Pesa", "SAFARICOM", "exe", "exec", "cmd", "sql", "Query"]
)
def test_forbidden_words_in_any_case_are_refused(word):
    with pytest.raises(CallbackURLRejected, match="contains"):
        check_callback_url(f"https://pay.example.co.ke/{word}/confirmation", production=False)


def test_forbidden_word_inside_the_token_is_refused():
    with pytest.raises(CallbackURLRejected, match="'sql'"):
        check_callback_url(
            "https://pay.example.co.ke/api/v1/c2b/aBsQl9/confirmation", production=False
        )


def test_http_is_refused_in_production():
    with pytest.raises(CallbackURLRejected, match="https"):
        check_callback_url(GOOD.replace("https", "http"), production=True)


def test_http_is_allowed_in_sandbox():
    check_callback_url(GOOD.replace("https", "http"), production=False)


@pytest.mark.parametrize("host", ["abc.ngrok.io", "x.mockbin.org", "en1.requestbin.net"])
def test_url_tester_hosts_are_refused(host):
    with pytest.raises(CallbackURLRejected, match="URL-tester"):
        check_callback_url(f"https://{host}/cb", production=False)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "app.localhost", "0.0.0.0"])
def test_local_hosts_are_refused(host):
    with pytest.raises(CallbackURLRejected, match="this machine"):
        check_callback_url(f"http://{host}:8000/cb", production=False)


def test_local_hosts_are_allowed_for_the_emulator_in_sandbox_only():
    check_callback_url("http://127.0.0.1:8000/cb", production=False, allow_local=True)
    with pytest.raises(CallbackURLRejected):
        check_callback_url("https://127.0.0.1:8000/cb", production=True, allow_local=True)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "/relative/path", "https://"])
def test_non_http_urls_are_refused(url):
    with pytest.raises(CallbackURLRejected, match="absolute"):
        check_callback_url(url, production=False)

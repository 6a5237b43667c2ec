import logging
import logging.config

from core.redaction import RedactCallbackTokens, redact


def test_callback_token_is_redacted_from_log_lines():
    assert redact("Bad Request: /api/v1/c2b/s3cret-token/confirmation") == (
        "Bad Request: /api/v1/c2b/<token>/confirmation"
    )
    assert redact("POST /api/v1/sms/abc123/delivery-report") == (
        "POST /api/v1/sms/<token>/delivery-report"
    )


def test_filter_rewrites_formatted_records():
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Bad Request: %s",
        ("/api/v1/c2b/s3cret/validation",),
        None,
    )
    RedactCallbackTokens().filter(record)
    assert record.getMessage() == "Bad Request: /api/v1/c2b/<token>/validation"


def test_the_configured_console_handler_writes_no_token(settings, capsys):
    logging.config.dictConfig(settings.LOGGING)  # handlers bind the captured stderr
    try:
        logging.getLogger("django.request").warning(
            "Bad Request: %s", "/api/v1/c2b/test-callback-token/confirmation"
        )
        err = capsys.readouterr().err
    finally:
        logging.config.dictConfig(settings.LOGGING)
    assert "Bad Request: /api/v1/c2b/<token>/confirmation" in err
    assert "test-callback-token" not in err

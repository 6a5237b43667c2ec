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
            "Bad Request: %s", "/api/v1/c2b/test-callback-token-0123456789abcdef/confirmation"
        )
        err = capsys.readouterr().err
    finally:
        logging.config.dictConfig(settings.LOGGING)
    assert "Bad Request: /api/v1/c2b/<token>/confirmation" in err
    assert "test-callback-token-0123456789abcdef" not in err


def test_a_configured_token_is_redacted_wherever_it_appears():
    line = "GET /static/x?t=0123456789abcdef0123456789abcdef HTTP/1.1"
    assert redact(line, secrets=["0123456789abcdef0123456789abcdef"]) == (
        "GET /static/x?t=<token> HTTP/1.1"
    )


def test_every_handler_the_settings_configure_redacts(settings):
    logging.config.dictConfig(settings.LOGGING)
    try:
        loggers = [logging.getLogger()] + [
            logging.getLogger(name) for name in logging.root.manager.loggerDict
        ]
        handlers = {
            handler
            for logger in loggers
            for handler in logger.handlers
            # NullHandlers print nothing; pytest's own capture is not the service's output.
            if not isinstance(handler, logging.NullHandler)
            and not type(handler).__module__.startswith("_pytest")
        }
    finally:
        logging.config.dictConfig(settings.LOGGING)
    assert handlers
    for handler in handlers:
        assert any(isinstance(f, RedactCallbackTokens) for f in handler.filters), handler


def test_runserver_request_log_writes_no_token(settings, capsys):
    logging.config.dictConfig(settings.LOGGING)
    try:
        logging.getLogger("django.server").info(
            '"%s" %s %s', "POST /api/v1/c2b/test-callback-token-0123456789abcdef/validation", 200, 2
        )
        err = capsys.readouterr().err
    finally:
        logging.config.dictConfig(settings.LOGGING)
    assert "/api/v1/c2b/<token>/validation" in err
    assert "0123456789abcdef" not in err


def test_a_logged_traceback_is_redacted_too(settings, capsys):
    logging.config.dictConfig(settings.LOGGING)
    try:
        try:
            raise OSError("write error on /api/v1/c2b/test-callback-token-0123456789abcdef/x")
        except OSError:
            logging.getLogger("django.request").exception("Internal Server Error")
        err = capsys.readouterr().err
    finally:
        logging.config.dictConfig(settings.LOGGING)
    assert "OSError: write error on /api/v1/c2b/<token>/x" in err
    assert "0123456789abcdef" not in err

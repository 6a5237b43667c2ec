"""System checks about where receipts go."""

from sms.checks import check_sms_backend


def test_console_backend_outside_debug_warns_that_members_get_no_sms(settings):
    settings.DEBUG, settings.SMS_BACKEND = False, "console"
    [warning] = check_sms_backend(None)
    assert warning.id == "sms.W001"


def test_console_backend_in_debug_is_fine(settings):
    settings.DEBUG, settings.SMS_BACKEND = True, "console"
    assert check_sms_backend(None) == []


def test_africastalking_without_credentials_is_an_error(settings):
    settings.SMS_BACKEND = "africastalking"
    settings.AFRICASTALKING_USERNAME, settings.AFRICASTALKING_API_KEY = "neno", ""
    [error] = check_sms_backend(None)
    assert error.id == "sms.E001"


def test_africastalking_with_credentials_passes(settings):
    settings.SMS_BACKEND = "africastalking"
    settings.AFRICASTALKING_USERNAME, settings.AFRICASTALKING_API_KEY = "neno", "key"
    assert check_sms_backend(None) == []

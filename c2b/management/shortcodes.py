"""The commands' ``--shortcode`` option, read one way: a number we know, or a clear error."""

from django.core.management import CommandError

from c2b.models import Shortcode

ADD_HINT = "add it with 'manage.py shortcode add'"


def shortcode_named(number: str) -> Shortcode:
    """The shortcode with this number; an unknown one is the operator's typo, said plainly."""
    code = Shortcode.objects.filter(number=number).first()
    if code is None:
        raise CommandError(f"Unknown shortcode {number}: {ADD_HINT}.")
    return code


def shortcodes_chosen(number: str | None) -> list[Shortcode]:
    """The shortcode named, or every enabled one when none is; an error when that is nothing."""
    if number:
        return [shortcode_named(number)]
    codes = list(Shortcode.objects.filter(enabled=True))
    if not codes:
        raise CommandError(f"No enabled shortcodes: {ADD_HINT.replace('it', 'one')}.")
    return codes

from collections.abc import Callable

import pytest

from members.models import Member, MemberPhone


@pytest.fixture
def make_member(db) -> Callable[..., Member]:
    def make(
        number: str = "NS00123",
        name: str = "John Otieno",
        phones: tuple[str, ...] = ("254712345126",),
        status: str = Member.Status.ACTIVE,
    ) -> Member:
        member = Member.objects.create(number=number, name=name, status=status)
        for position, phone in enumerate(phones):
            MemberPhone.objects.create(member=member, number=phone, position=position)
        return member

    return make

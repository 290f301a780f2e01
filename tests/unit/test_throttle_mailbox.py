"""The mailbox an address reaches, for counting code e-mails (issue 29, point 6)."""

from __future__ import annotations

import pytest

from bot.procedures.parts.mails import counting_mailbox


@pytest.mark.parametrize(
    ("address", "mailbox"),
    [
        ("victim@example.org", "victim@example.org"),
        ("Victim+1@Example.org", "victim@example.org"),
        ("victim+a+b@example.org", "victim@example.org"),
        # dots count at providers not known to ignore them
        ("v.ictim@example.org", "v.ictim@example.org"),
        ("V.I.C.T.I.M+x@gmail.com", "victim@gmail.com"),
        ("v.ictim@googlemail.com", "victim@gmail.com"),
        # a local part that is only a tag stays what it is
        ("+x@example.org", "+x@example.org"),
        ("  lea@example.org ", "lea@example.org"),
    ],
)
def test_counting_mailbox(address: str, mailbox: str) -> None:
    assert counting_mailbox(address) == mailbox

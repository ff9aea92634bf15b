"""Card UIDs: the canonical form boxes send is taken as it is; anything else is cleaned
up exactly as before (separators out, upper case, 8, 14 or 20 hex characters)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from kernel.uids import normalise_uid


def reference(text: str) -> str | None:
    uid = re.sub(r"[\s:\-_.]", "", text).upper()
    return uid if len(uid) in (8, 14, 20) and re.fullmatch("[0-9A-F]+", uid) else None


uid_like = st.text(alphabet="0123456789abcdefABCDEFG:-_. \n", max_size=26)


@given(uid_like)
def test_every_text_normalises_as_the_plain_rules_say(text: str) -> None:
    assert normalise_uid(text) == reference(text)


def test_the_lengths_of_a_card_uid() -> None:
    assert [normalise_uid("A" * n) for n in (7, 8, 9, 14, 20, 26)] == [
        None,
        "A" * 8,
        None,
        "A" * 14,
        "A" * 20,
        None,
    ]
    assert normalise_uid("04:a1:b2:c3") == "04A1B2C3"

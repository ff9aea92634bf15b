"""The tests' own helpers keep the rules the product checks (a flaky test is a bug)."""

from __future__ import annotations

from names.nicknames import check_nickname
from tests.helpers import letters


def test_a_slug_suffix_always_makes_an_allowed_nickname() -> None:
    # Tests name players "Walker <letters of the slug's last four hex digits> <n>"; one suffix
    # in a few hundred used to spell something the nickname rules refuse, failing a run.
    # Every 16th suffix (the whole range takes a minute), and suffixes that failed runs.
    suffixes = [f"{n:04x}" for n in range(3, 16**4, 16)] + ["0a52", "4a99", "fecc", "00ae"]
    refused = []
    for suffix in suffixes:
        spelled = letters(suffix)
        for number in range(10):
            nickname = f"Walker {spelled} {number}"
            try:
                check_nickname(nickname)
            except ValueError:
                refused.append(nickname)
    assert refused == []

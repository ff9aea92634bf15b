"""The nickname blocklist and its evasions, and the nickname shape rules (pure functions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from people.nicknames import (
    NicknameError,
    check_nickname,
    hidden_name,
    is_offensive,
    load_blocklist,
    nickname_key,
)


@pytest.mark.parametrize(
    "text",
    [
        "Fuck",
        "FUCK",
        "fuuuuck",
        "f.u.c.k",
        "f-u-c-k",
        "f u c k",
        "F_U_C_K face",
        "sh1t",
        "5h!t",
        "$hit",
        "shiiit",
        "b1tch",
        "b!tch",
        "@rsehole",
        "4rs3h0l3",
        "tw@t",
        "bo11ocks",
        "W4nk3r",
        "D1CK",
        "dick69",
        "c0ck",
        "a$$",
        "P R I C K",
        "Ｆｕｃｋ",  # full-width letters
        "fűck",  # accents
        "Super Shit Kid",
    ],
)
def test_blocked_with_evasions(text: str) -> None:
    assert is_offensive(text)


@pytest.mark.parametrize(
    "text",
    [
        "Swift Fox",
        "Scunthorpe Sam",
        "Peacock",
        "Dickens Fan",
        "Class Act",
        "Dash It",
        "Sussex Strider",
        "Essex Girl",
        "Bass Player",
        "As Fast As",
        "Prickly Pear",
        "Swanky Walker",
        "Arsenal Fan",
        "Scrappy Doo",
        "Cocktail Cat",
        "Titan",
        "Grass Hopper",
        "Skunk 12",
    ],
)
def test_innocent_words_pass(text: str) -> None:
    assert not is_offensive(text)


def test_blocklist_file_is_data(tmp_path: Path) -> None:
    words = tmp_path / "words.yaml"
    words.write_text("anywhere: [grumble]\nwhole_word: [meh]\nallowed: [grumbleweed]\n")
    custom = load_blocklist(words)
    assert custom.matches("Gr-u-m-b-l-e")
    assert custom.matches("MEH5")
    assert not custom.matches("Mehmet")
    assert not custom.matches("Grumbleweed")
    assert not custom.matches("Fuck")


@pytest.mark.parametrize(
    ("typed", "clean"),
    [("  Swift   Fox ", "Swift Fox"), ("Zoë-Jo", "Zoë-Jo"), ("O'Brien 3", "O'Brien 3")],
)
def test_accepted_nicknames_are_cleaned(typed: str, clean: str) -> None:
    assert check_nickname(typed) == clean


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("x", "characters"),
        ("A" * 25, "characters"),
        ("1234", "letters"),
        ("me@example.org", "letters"),
        ("Call 0770090012", "long numbers"),
        ("Player 77", "reserved"),
        ("anonymous", "reserved"),
        ("Sh1t Kid", "not allowed"),
    ],
)
def test_rejected_nicknames_say_why(typed: str, why: str) -> None:
    with pytest.raises(NicknameError, match=why):
        check_nickname(typed)


def test_keys_and_hidden_names() -> None:
    assert nickname_key("Swift  FOX") == nickname_key("swift fox") == "swift fox"
    assert hidden_name(1234) == "Player 1234"
    # A hidden name can never be chosen as a nickname.
    with pytest.raises(NicknameError):
        check_nickname(hidden_name(1234))

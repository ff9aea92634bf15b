"""The nickname blocklist and its evasions, the nickname shape rules, look-alike keys, the
real-name heuristic for children and the made-up public names (pure functions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from names.blocklist import is_offensive, load_blocklist, maintained_words
from names.nicknames import (
    NicknameError,
    check_child_nickname,
    check_nickname,
    hidden_name,
    nickname_key,
)
from names.public_names import is_child, looks_generated, make_name, words
from names.real_names import looks_like_real_name
from names.skeleton import invisible, skeleton


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
        "fu\u0441k",  # Cyrillic с
        "\u0455hit",  # Cyrillic ѕ
        "fvck",
        "phuck",
        "phuk",
        "fuq",
        "Sh It",
        "cocksucker",  # only in the maintained list
        "b\u00f8llocks",
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
        "Pompom Kid",
        "Speedy Pedro",
        "Torpedo Tom",
        "Dopey Dwarf",
        "Woody Owl",
        "Hancock Hero",
    ],
)
def test_innocent_words_pass(text: str) -> None:
    assert not is_offensive(text)


def test_blocklist_file_is_data(tmp_path: Path) -> None:
    words = tmp_path / "words.yaml"
    words.write_text("anywhere: [grumble]\nwhole_word: [meh]\nallowed: [grumbleweed]\n")
    custom = load_blocklist(words, maintained=())
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
        ("me@example.org", "address"),
        ("Call 0770090012", "long numbers"),
        ("Player 77", "reserved"),
        ("anonymous", "reserved"),
        ("Sh1t Kid", "not allowed"),
        ("fu\u0441k", "not allowed"),
        ("fvck", "not allowed"),
        ("phuck", "not allowed"),
        ("Swift\u3164Fox", "invisible"),
        ("\u3164\u3164\u3164", "invisible"),
        ("Fox\u115fCub", "invisible"),
        ("Fox\uffa0Cub", "invisible"),
        ("Fox\u200dCub", "invisible"),
        ("Fox\u202eCub", "invisible"),
        ("Zalgo\u0301\u0301\u0301", "invisible"),
        ("Call 07700 900 123", "long numbers"),
        ("Ring 0770-090-0123", "long numbers"),
        ("Ring 077.009.001.23", "long numbers"),
        ("Fox 0 7 7 0 0 9 0", "long numbers"),
        ("P1ayer 12", "reserved"),
        ("\u0420layer 12", "reserved"),
        ("PLAY ER 12", "reserved"),
        ("Pl4yer_12", "reserved"),
        ("Player", "reserved"),
        ("foxy.co.uk", "address"),
        ("www fox", "address"),
        ("foxy at gmail", "address"),
        ("Brave Otter 42", "made up"),
        ("brave-0tter 7", "made up"),
    ],
)
def test_rejected_nicknames_say_why(typed: str, why: str) -> None:
    with pytest.raises(NicknameError) as raised:
        check_nickname(typed)
    assert why in str(raised.value).replace("kept for the names the game makes up", "made up")


def test_keys_and_hidden_names() -> None:
    same = ["Swift  FOX", "swift fox", "Swift-Fox", "SwiftFox", "Sw\u0456ft F\u043ex", "Ｓwift Fox"]
    assert {nickname_key(n) for n in same} == {"swiftfox"}
    assert nickname_key("Zoë") == nickname_key("Zoe")
    assert nickname_key("Sam") == nickname_key("Sarn")  # TR39: rn looks like m
    assert nickname_key("Swift Fox") != nickname_key("Swift Fix")
    assert len(nickname_key("\ufdfa" * 4)) <= 40
    assert hidden_name(1234) == "Player 1234"
    # A hidden name can never be chosen as a nickname.
    with pytest.raises(NicknameError):
        check_nickname(hidden_name(1234))


def test_skeletons_and_invisible_characters() -> None:
    assert skeleton("fu\u0441k") == skeleton("fuck")
    assert skeleton("\u0420aypal") == skeleton("Paypal")
    assert invisible("Swift Fox") == []
    assert invisible("Zoe\u0308") == []  # composes to ë
    assert invisible("a\u200bb\u3164") == ["\u200b", "\u3164"]


def test_the_maintained_list_is_used() -> None:
    listed = maintained_words()
    assert len(listed) > 500 and "bukkake" in listed
    assert is_offensive("Bukkake Bob")


@pytest.mark.parametrize(
    "name",
    [
        "Olivia Jones",
        "olivia jones",
        "OLIVIA JONES",
        "Olivia-May Smith",
        "Xanthe Taylor",
        "Ol\u0456via Jones",
        "Jack O'Brien",
        "Harry Zzyzx",
        "Olivia King",
    ],
)
def test_real_full_names_are_refused_for_children(name: str) -> None:
    assert looks_like_real_name(name)
    with pytest.raises(NicknameError, match="real first name and surname"):
        check_child_nickname(name)
    assert check_nickname(name)  # adults may


@pytest.mark.parametrize(
    "name",
    ["Olivia", "Olivia 7", "Olivia Otter", "Swift Fox", "Green Goblin", "Sunny Owl", "Lion King"],
)
def test_nicknames_that_are_not_full_names_pass(name: str) -> None:
    assert not looks_like_real_name(name)
    assert check_child_nickname(name) == name


def test_age_bands_under_16() -> None:
    assert [b for b in ("0-4", "5-11", "12-15", "16-24", "25-44", "65+") if is_child(b)] == [
        "0-4",
        "5-11",
        "12-15",
    ]
    assert is_child(None)  # unknown age: the safer reading


def test_made_up_names_come_from_checked_words() -> None:
    w = words()
    assert len(w.adjectives) >= 40 and len(w.animals) >= 40
    for adjective in w.adjectives:
        for animal in w.animals:
            pair = f"{adjective} {animal}"
            assert check_child_nickname(pair) == pair
            assert len(pair) + 4 <= 24
    for digits in (2, 3):
        name = make_name(digits=digits)
        assert looks_generated(name)
        with pytest.raises(NicknameError, match="makes up"):
            check_nickname(name)

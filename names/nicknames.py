"""Nicknames: how players are shown, never by name.

``check_nickname`` is the one checker every way a nickname enters goes through
(registration, the player's own change, game files). A nickname is cleaned (NFKC, so
full-width letters become plain ones; whitespace collapsed) and refused, with a sentence
saying what to change, when it:

- holds invisible characters (zero-width, format, Hangul fillers, stacked combining marks);
- is not 2-24 characters of letters, digits, spaces and ``- ' . _`` with at least a letter;
- holds a phone number or date: 5 digits in a row, or 7 digits with only separators
  (spaces ``.`` ``-`` ``_`` ``'``) between them;
- looks like an e-mail or web address;
- looks like a reserved name: ``Player <n>`` (how hidden nicknames are shown) or
  ``anonymous``, or the shape of the game's made-up public names ("Brave Otter 42"),
  whatever the case, spacing or look-alike letters;
- contains a blocked word (``blocklist``).

``check_child_nickname`` adds, for players under 16, the "looks like a real full name" test
(names/real_names.py).

Uniqueness per game is by ``nickname_key``: the Unicode TR39 skeleton of the case-folded
nickname without spaces or punctuation, so "Swift Fox", "swift-fox" and "Swіft Fox" (with a
Cyrillic і) are the same nickname. A nickname an organiser hides is shown as ``Player <id>``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from names.blocklist import is_offensive
from names.public_names import is_child, looks_generated
from names.real_names import looks_like_real_name
from names.skeleton import invisible, skeleton_key

MIN_LENGTH = 2
MAX_LENGTH = 24
KEY_LENGTH = 40  # players.nickname_key

_SHAPE = re.compile(r"^[\w' .\-]+$")
_LONG_DIGITS = re.compile(r"\d{5,}")
_SEPARATED_DIGITS = re.compile(r"\d(?:[\s.\-_']*\d){6,}")
_ADDRESS = re.compile(
    r"\w{2,}\.(?:com|net|org|uk|co|io|me|info|biz|app|tv|gg|ly)\b"
    r"|\b(?:www|https?|gmail|hotmail|yahoo|outlook|icloud|btinternet|dot\s*com)\b",
    re.IGNORECASE,
)
# On skeleton keys: "1" is already "l", "0" is "o" and "m" is "rn".
_RESERVED_KEY = re.compile(rf"^(?:p+l+[a4]+y+[e3]+r+|{skeleton_key('anonymous')})[0-9ol]*$")
_SPACES = re.compile(r"\s+")


class NicknameError(ValueError):
    """A nickname that cannot be used; the message is shown to the person."""


def clean(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def nickname_key(nickname: str) -> str:
    """The per-game uniqueness key: case-, spacing- and look-alike-insensitive (TR39).

    A key longer than the column (a few characters have long skeletons) keeps its first
    23 characters and a digest of the rest.
    """
    key = skeleton_key(clean(nickname))
    if len(key) > KEY_LENGTH:
        key = key[:23] + "~" + hashlib.sha256(key.encode()).hexdigest()[:16]
    return key


def _describe(chars: list[str]) -> str:
    names = sorted({unicodedata.name(c, f"U+{ord(c):04X}") for c in chars})
    return ", ".join(names[:3])


def check_nickname(text: str) -> str:
    """The cleaned nickname, or NicknameError saying what to change."""
    hidden = invisible(unicodedata.normalize("NFKC", text))
    if hidden:
        raise NicknameError(
            "a nickname may not contain invisible or combining characters "
            f"(found: {_describe(hidden)})"
        )
    nickname = clean(text)
    if not MIN_LENGTH <= len(nickname) <= MAX_LENGTH:
        raise NicknameError(f"a nickname has {MIN_LENGTH} to {MAX_LENGTH} characters")
    if _ADDRESS.search(nickname):
        raise NicknameError("a nickname may not be or contain an e-mail or web address")
    if not _SHAPE.match(nickname) or not any(c.isalpha() for c in nickname):
        raise NicknameError(
            "a nickname has letters and may have digits, spaces and the characters - ' . _"
        )
    if _LONG_DIGITS.search(nickname) or _SEPARATED_DIGITS.search(nickname):
        raise NicknameError(
            "a nickname may not contain long numbers: please leave out phone numbers and dates"
        )
    key = skeleton_key(nickname)
    if _RESERVED_KEY.match(key):
        raise NicknameError(
            "that nickname looks like 'Player <number>', which is reserved: please choose another"
        )
    if looks_generated(nickname):
        raise NicknameError(
            "nicknames like 'Brave Otter 42' are kept for the names the game makes up: "
            "please choose another"
        )
    if is_offensive(nickname):
        raise NicknameError("that nickname is not allowed: please choose another")
    return nickname


def check_child_nickname(text: str) -> str:
    """``check_nickname`` plus, for players under 16, no real full names."""
    nickname = check_nickname(text)
    if looks_like_real_name(nickname):
        raise NicknameError(
            "that looks like a real first name and surname: players under 16 choose a "
            "nickname that is not their name"
        )
    return nickname


def checked_nickname(text: str, age_band: str | None) -> str:
    """The checker for a player of ``age_band`` (None: unknown, judged as under 16)."""
    return check_child_nickname(text) if is_child(age_band) else check_nickname(text)


def hidden_name(player_id: int) -> str:
    """What public boards show instead of a nickname an organiser has hidden."""
    return f"Player {player_id}"

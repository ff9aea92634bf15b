"""Languages of the family site: English source strings and gettext catalogues.

The Welsh catalogue is ``locale/cy/LC_MESSAGES/messages.po``, compiled in memory when the
site starts (no binary .mo file in the repository to go stale); ``messages.pot`` is
regenerated with ``python -m api.family.i18n`` after strings change, and a test checks that
every string of the site's templates and modules has a Welsh translation.

A page's language: the one the visitor chose with the switch (a strictly necessary cookie,
``taptrail_lang``), else the first of the browser's ``Accept-Language`` the page offers,
else English. A game page offers the game's ``languages`` (game file; default English and
Welsh); pages of the whole installation offer both.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

LANGUAGES = ("en", "cy")
DEFAULT = ("en", "cy")
NAMES = {"en": "English", "cy": "Cymraeg"}
LOCALE = Path(__file__).parent / "locale"
COOKIE = "taptrail_lang"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}


def N_(message: str) -> str:
    """Marks a string for the catalogue where it is defined; translated where it is shown."""
    return message


def catalogue(language: str) -> Catalog:
    with (LOCALE / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=language)


@cache
def translations(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, catalogue(language), use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def source_strings() -> Catalog:
    """Every string the site's templates and Python modules mark for translation."""
    found = Catalog(project="Taptrail family site")
    options = {"**/templates/**.html": JINJA_OPTIONS}
    for filename, lineno, message, comments, _ in extract_from_dir(
        Path(__file__).parent, METHODS, keywords=KEYWORDS, options_map=options
    ):
        found.add(message, None, [(filename, lineno)], auto_comments=comments)
    return found


def offered(game_languages: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(game_languages) if game_languages else DEFAULT


def choose(cookie: str | None, accept_language: str | None, offered: Sequence[str]) -> str:
    """The page's language: the switch's cookie, then Accept-Language, then English."""
    if cookie in offered:
        assert cookie is not None
        return cookie
    wanted: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in offered and quality > 0:
            wanted.append((-quality, i, primary))
    return min(wanted)[2] if wanted else "en"


def main() -> None:  # pragma: no cover - a maintainer's tool
    """Writes messages.pot and adds new strings (untranslated) to each catalogue."""
    template = source_strings()
    with (LOCALE / "messages.pot").open("wb") as f:
        write_po(f, template, omit_header=True, sort_output=True, width=100)
    for language in LANGUAGES[1:]:
        current = catalogue(language)
        current.update(template, no_fuzzy_matching=True)
        with (LOCALE / language / "LC_MESSAGES" / "messages.po").open("wb") as f:
            write_po(
                f, current, omit_header=False, sort_output=True, width=100, ignore_obsolete=True
            )


if __name__ == "__main__":  # pragma: no cover
    main()

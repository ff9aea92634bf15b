"""The one CSV writer: every CSV file the platform writes (downloads, exports, reports,
demo data) goes through ``writer`` or ``dict_writer``, never ``csv.writer`` directly.

Text a spreadsheet would run as a formula is neutralised, following OWASP's guidance on
CSV injection: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return, also after leading whitespace, gets a single quote in front (``'=HYPERLINK(...)``),
so a checkpoint called ``=HYPERLINK("http://x","y")`` reads as that text, not a link.

Numbers stay numbers: ints, floats and decimals are written as the csv module writes them,
and text that is a plain number (``-3``, ``-0.5``, ``+1e3``) is left alone. ``None`` is an
empty cell, as with the csv module. Otherwise the writers behave as the csv module's
(``lineterminator`` defaults to CRLF, as RFC 4180 says).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Protocol

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*", re.ASCII)


class _Stream(Protocol):
    def write(self, s: str, /) -> Any: ...


def safe_cell(value: Any) -> Any:
    """``value`` as it may go into a CSV cell: formula-like text gets a leading quote."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(TRIGGERS) or value.lstrip().startswith(TRIGGERS):
        if _PLAIN_NUMBER.fullmatch(value):
            return value
        return "'" + value
    return value


class Writer:
    """``csv.writer`` with every cell passed through ``safe_cell``."""

    def __init__(self, stream: _Stream, **options: Any) -> None:
        options.setdefault("lineterminator", "\r\n")
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        self._writer.writerows([safe_cell(v) for v in row] for row in rows)


class DictWriter:
    """``csv.DictWriter`` with every cell (and the header) passed through ``safe_cell``."""

    def __init__(self, stream: _Stream, fieldnames: Collection[str], **options: Any) -> None:
        self.fieldnames = list(fieldnames)
        self._writer = Writer(stream, **options)

    def writeheader(self) -> Any:
        return self._writer.writerow(self.fieldnames)

    def writerow(self, row: Mapping[str, Any]) -> Any:
        unknown = set(row) - set(self.fieldnames)
        if unknown:
            raise ValueError(f"dict contains fields not in fieldnames: {sorted(unknown)}")
        return self._writer.writerow([row.get(name, "") for name in self.fieldnames])

    def writerows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream: _Stream, **options: Any) -> Writer:
    return Writer(stream, **options)


def dict_writer(stream: _Stream, fieldnames: Collection[str], **options: Any) -> DictWriter:
    return DictWriter(stream, fieldnames, **options)

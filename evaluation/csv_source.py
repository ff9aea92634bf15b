"""Shared plumbing for the streaming CSV importers (IoD files, ONS postcode lookups).

* :class:`ImportFileError` names the line and column of a problem.
* :class:`LineErrors` keeps a reader's bad lines (the first so many, and a count) or, when
  strict, raises on the first.
* :func:`open_binary` accepts a path (``.csv`` or an ONS ``.zip``) or an open binary file.
* :class:`DecodedLines` turns a binary file into text lines **one line at a time**: a leading
  UTF-8 byte-order mark is dropped, and each line is decoded as UTF-8, falling back to latin-1
  for a line that is not valid UTF-8 (some ONS and IoD files are latin-1; a latin-1 line with
  accented letters is practically never valid UTF-8, so this per-line sniff is safe and needs
  neither a second pass nor the whole file in memory). The ``csv`` module reads from it, so
  quoted fields spanning lines still work and ``csv.reader.line_num`` is the physical line.
* Number parsing strips thousands separators (``"1,234"``) but rejects decimal commas.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = [
    "DecodedLines",
    "ImportFileError",
    "ProgressCallback",
    "Source",
    "display_column",
    "first_record",
    "normalise_header",
    "open_binary",
    "parse_float",
    "parse_int",
]

#: A path to a CSV (or a ``.zip`` holding one), or a file opened in binary mode.
Source = str | os.PathLike[str] | IO[bytes]

#: Called with the number of bytes consumed since the previous call, so ``tqdm.update`` fits:
#: ``with tqdm(total=size, unit="B", unit_scale=True) as bar: read_imd(p, progress=bar.update)``.
ProgressCallback = Callable[[int], Any]

_PROGRESS_EVERY_BYTES = 1 << 20


class ImportFileError(ValueError):
    """A problem in an imported file, located by line number and column name.

    ``str(error)`` reads like ``line 17: Index of Multiple Deprivation (IMD) Decile: 'x' is not
    a whole number``. ``line`` counts physical lines from 1 (the header is line 1).
    """

    def __init__(
        self,
        reason: str,
        *,
        line: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        self.reason = reason
        self.line = line
        self.column = column
        self.value = value
        super().__init__(self._message())

    def _message(self) -> str:
        parts = []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column is not None:
            parts.append(self.column)
        body = self.reason if self.value is None else f"{self.value!r} {self.reason}"
        parts.append(body)
        return ": ".join(parts)

    def __str__(self) -> str:
        return self._message()


def normalise_header(text: str) -> str:
    """Header text for matching: BOM removed, whitespace collapsed, case-folded."""
    return " ".join(text.replace("\ufeff", "").split()).casefold()


def display_column(header: str) -> str:
    """A short column name for messages: the header up to its ``" (where ..."`` note."""
    clean = " ".join(header.replace("\ufeff", "").split())
    cut = clean.find(" (where")
    return clean if cut < 0 else clean[:cut]


def _pick_csv_member(archive: zipfile.ZipFile) -> str:
    csvs = [
        info
        for info in archive.infolist()
        if info.filename.lower().endswith(".csv") and "multi_csv" not in info.filename.lower()
    ]
    if not csvs:
        raise ImportFileError("the zip archive holds no CSV file")
    in_data = [info for info in csvs if "/data/" in f"/{info.filename.lower()}"]
    pool = in_data or csvs
    return max(pool, key=lambda info: info.file_size).filename


@contextmanager
def open_binary(source: Source, *, member: str | None = None) -> Iterator[IO[bytes]]:
    """Open ``source`` for binary reading.

    A ``.zip`` path is read in place (streamed, not extracted): ``member`` names the CSV
    inside, otherwise the largest CSV under ``Data/`` (the ONS layout) or in the archive.
    A file object passed in is used as it is and not closed.
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                name = member or _pick_csv_member(archive)
                with archive.open(name) as handle:
                    yield handle
        else:
            with path.open("rb") as handle:
                yield handle
        return
    if isinstance(source, io.TextIOBase):
        raise TypeError("open the file in binary mode ('rb'); the importer decodes it itself")
    yield source


class LineErrors:
    """What a reader of a large file keeps of its bad lines: the first ``max_errors`` of
    them in :attr:`errors` and how many in all in :attr:`error_count`; with ``strict`` the
    first bad line raises instead. The importers' readers inherit it."""

    def __init__(self, *, strict: bool, max_errors: int) -> None:
        self._strict = strict
        self._max_errors = max_errors
        self.errors: list[ImportFileError] = []
        self.error_count = 0
        self._lines: DecodedLines | None = None

    @property
    def latin1_lines(self) -> int:
        """Lines so far that were not valid UTF-8 and were read as latin-1."""
        return 0 if self._lines is None else self._lines.latin1_lines

    def _reset_errors(self) -> None:
        self.errors = []
        self.error_count = 0

    def _record(self, error: ImportFileError) -> None:
        if self._strict:
            raise error
        self.error_count += 1
        if len(self.errors) < self._max_errors:
            self.errors.append(error)


class DecodedLines:
    """Iterate text lines from a binary file in bounded memory (see module docstring)."""

    def __init__(
        self,
        binary: IO[bytes],
        *,
        progress: ProgressCallback | None = None,
        progress_every: int = _PROGRESS_EVERY_BYTES,
    ) -> None:
        self._binary = binary
        self._progress = progress
        self._progress_every = progress_every
        self.bytes_read = 0
        self.latin1_lines = 0
        self.bom = False

    def __iter__(self) -> Iterator[str]:
        pending = 0
        first = True
        for raw in self._binary:
            size = len(raw)
            self.bytes_read += size
            pending += size
            if first:
                first = False
                if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                    raise ImportFileError(
                        "the file is UTF-16; save it as CSV (UTF-8 or plain CSV)", line=1
                    )
                if raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
                    self.bom = True
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
                self.latin1_lines += 1
            if self._progress is not None and pending >= self._progress_every:
                self._progress(pending)
                pending = 0
            yield text
        if self._progress is not None and pending:
            self._progress(pending)


def first_record(reader: Iterator[list[str]]) -> list[str]:
    """The header: the first record with any non-blank field (leading blank lines skipped)."""
    for record in reader:
        if any(cell.strip() for cell in record):
            return record
    raise ImportFileError("the file is empty", line=1)


_INT = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.0+)?$")
_FLOAT = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][+-]?\d+)?$|^[+-]?\.\d+$")


def parse_int(text: str) -> int:
    """Parse a whole number, allowing thousands separators (``"1,234"``) and ``"12.0"``.

    Raises :class:`ValueError` with the reason ``"is not a whole number"``.
    """
    clean = text.strip()
    if not _INT.match(clean):
        raise ValueError("is not a whole number")
    return int(clean.replace(",", "").split(".", 1)[0])


def parse_float(text: str) -> float:
    """Parse a decimal number, allowing thousands separators. Raises :class:`ValueError`."""
    clean = text.strip()
    if not _FLOAT.match(clean):
        raise ValueError("is not a number")
    return float(clean.replace(",", ""))

"""Streaming reader for the ONS postcode lookups (postcode -> LSOA).

Supported layouts (headers matched case-insensitively, detected per release):

* NSPL / ONSPD: ``pcd`` (or ``pcd7``), ``pcd2``/``pcd8``, ``pcds``, ``dointr``, ``doterm``, ...,
  ``lsoa11`` and/or ``lsoa21`` (``lsoa21cd`` in the 2025 releases, which also renamed
  ``usertype`` to ``usrtypind``); some releases use upper-case headers.
* The PCD -> OA -> LSOA -> MSOA -> LAD "best fit" lookup: ``pcd7, pcd8, pcds, dointr, doterm,
  usertype, oa21cd, lsoa21cd, msoa21cd, ladcd, lsoa21nm, ...`` (``oa11cd``/``lsoa11cd`` in the
  2011-based files).

The file is read one line at a time (never whole): the full UK file has about 2.7 million
rows. Each line is decoded as UTF-8, or latin-1 when it is not valid UTF-8 (see
:mod:`evaluation.csv_source`). Terminated postcodes are kept, flagged ``terminated=True``
(``doterm`` not blank), so that old registrations still match. ``pcds`` is taken from the
``pcds`` column when present, otherwise normalised from ``pcd7``/``pcd``/``pcd8``.

When a file carries more than one LSOA vintage (an NSPL with both ``lsoa11`` and ``lsoa21``)
the newest is used unless ``lsoa_vintage="2011"`` is asked for: use the vintage of the IoD
edition in use (IoD2019 -> 2011 codes, IoD2025 -> 2021 codes). Rows whose LSOA is blank or a
pseudo code (``L99999999`` Channel Islands, ``M99999999`` Isle of Man, ...) are skipped and
counted in :attr:`PostcodeLookupReader.rows_without_lsoa`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass

from evaluation.csv_source import (
    DecodedLines,
    ImportFileError,
    LineErrors,
    ProgressCallback,
    Source,
    first_record,
    normalise_header,
    open_binary,
)
from geo.postcodes import PCDS_PATTERN, is_plausible_postcode, normalise_postcode

__all__ = [
    "ImportFileError",
    "PostcodeLookupReader",
    "PostcodeRow",
    "read_postcode_lookup",
]


@dataclass(frozen=True, slots=True)
class PostcodeRow:
    """A postcode (``pcds`` form) and the LSOA it lies in."""

    pcds: str
    lsoa_code: str
    terminated: bool


_LSOA_HEADER = re.compile(r"lsoa(\d{2})(?:cd)?")
_POSTCODE_FALLBACKS = ("pcd7", "pcd", "pcd8", "pcd2")


def _vintage(two_digits: str) -> str:
    return f"20{two_digits}" if int(two_digits) < 90 else f"19{two_digits}"


def _is_pseudo_code(code: str) -> bool:
    return code.endswith("99999999")


class PostcodeLookupReader(LineErrors):
    """Iterate :class:`PostcodeRow` from an ONS postcode lookup, collecting per-line errors.

    After (or during) iteration: :attr:`columns` (field -> header), :attr:`lsoa_vintage`
    (``"2011"``/``"2021"``), :attr:`rows_read`, :attr:`rows_without_lsoa`,
    :attr:`terminated_rows`, :attr:`latin1_lines`, :attr:`errors` (first ``max_errors``) and
    :attr:`error_count`. ``strict=True`` raises on the first bad line instead.
    """

    def __init__(
        self,
        source: Source,
        *,
        lsoa_vintage: str | None = None,
        progress: ProgressCallback | None = None,
        strict: bool = False,
        max_errors: int = 1000,
        member: str | None = None,
    ) -> None:
        if lsoa_vintage is not None and not re.fullmatch(r"\d{4}", lsoa_vintage):
            raise ValueError("lsoa_vintage must be a year such as '2011' or '2021'")
        super().__init__(strict=strict, max_errors=max_errors)
        self._source = source
        self._wanted_vintage = lsoa_vintage
        self._progress = progress
        self._member = member
        self.columns: dict[str, str] = {}
        self.lsoa_vintage: str | None = None
        self.rows_read = 0
        self.rows_without_lsoa = 0
        self.terminated_rows = 0

    def _read_header(self, raw_headers: list[str]) -> tuple[int, int, int | None]:
        """Return (postcode index, lsoa index, doterm index)."""
        headers = [normalise_header(h) for h in raw_headers]
        index = {h: i for i, h in reversed(list(enumerate(headers)))}
        if "pcds" in index:
            pc_field = "pcds"
        else:
            fallback = next((name for name in _POSTCODE_FALLBACKS if name in index), None)
            if fallback is None:
                raise ImportFileError(
                    "not an ONS postcode lookup: no pcds, pcd7, pcd or pcd8 column", line=1
                )
            pc_field = fallback

        vintages: dict[str, int] = {}
        for i, header in enumerate(headers):
            match = _LSOA_HEADER.fullmatch(header)
            if match:
                vintages.setdefault(_vintage(match.group(1)), i)
        if not vintages:
            raise ImportFileError(
                "no LSOA column (lsoa11, lsoa21, lsoa11cd or lsoa21cd) in the header", line=1
            )
        if self._wanted_vintage is not None:
            if self._wanted_vintage not in vintages:
                have = ", ".join(sorted(vintages))
                raise ImportFileError(
                    f"no {self._wanted_vintage} LSOA column in this file (it has: {have})",
                    line=1,
                )
            vintage = self._wanted_vintage
        else:
            vintage = max(vintages)
        lsoa_index = vintages[vintage]
        doterm_index = index.get("doterm")

        self.lsoa_vintage = vintage
        self.columns = {
            "postcode": raw_headers[index[pc_field]].replace("\ufeff", "").strip(),
            "lsoa_code": raw_headers[lsoa_index].strip(),
        }
        if doterm_index is not None:
            self.columns["doterm"] = raw_headers[doterm_index].strip()
        return index[pc_field], lsoa_index, doterm_index

    def __iter__(self) -> Iterator[PostcodeRow]:
        self.rows_read = self.rows_without_lsoa = self.terminated_rows = 0
        self._reset_errors()
        with open_binary(self._source, member=self._member) as binary:
            lines = self._lines = DecodedLines(binary, progress=self._progress)
            reader = csv.reader(lines)
            raw_headers = first_record(reader)
            pc_i, lsoa_i, doterm_i = self._read_header(raw_headers)
            pc_label = self.columns["postcode"]
            needed = max(pc_i, lsoa_i, doterm_i if doterm_i is not None else 0)
            for record in reader:
                if len(record) <= needed:
                    if not any(cell.strip() for cell in record):
                        continue
                    self._record(
                        ImportFileError(
                            f"has {len(record)} fields; the header has {len(raw_headers)}",
                            line=reader.line_num,
                        )
                    )
                    continue
                raw_pc = record[pc_i]
                if PCDS_PATTERN.fullmatch(raw_pc):  # fast path: already in pcds form
                    pcds = raw_pc
                elif not raw_pc.strip():
                    self._record(ImportFileError("is empty", line=reader.line_num, column=pc_label))
                    continue
                elif is_plausible_postcode(raw_pc):
                    pcds = normalise_postcode(raw_pc)
                else:
                    self._record(
                        ImportFileError(
                            "is not a postcode", line=reader.line_num, column=pc_label, value=raw_pc
                        )
                    )
                    continue
                lsoa = record[lsoa_i].strip().upper()
                if not lsoa or _is_pseudo_code(lsoa):
                    self.rows_without_lsoa += 1
                    continue
                terminated = doterm_i is not None and bool(record[doterm_i].strip())
                if terminated:
                    self.terminated_rows += 1
                self.rows_read += 1
                yield PostcodeRow(pcds=pcds, lsoa_code=lsoa, terminated=terminated)


def read_postcode_lookup(
    source: Source,
    *,
    lsoa_vintage: str | None = None,
    progress: ProgressCallback | None = None,
    strict: bool = True,
    member: str | None = None,
) -> Iterator[PostcodeRow]:
    """Stream :class:`PostcodeRow` from an ONS postcode lookup (NSPL, ONSPD or the
    PCD->OA->LSOA lookup). With ``strict=True`` (default) a bad line raises
    :class:`ImportFileError`; use :class:`PostcodeLookupReader` to collect errors instead."""
    yield from PostcodeLookupReader(
        source, lsoa_vintage=lsoa_vintage, progress=progress, strict=strict, member=member
    )

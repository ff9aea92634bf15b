"""Streaming reader for the Indices of Deprivation "File 7" CSVs.

England (the contract): IoD2019 (32,844 LSOAs, 2011 codes, ``LSOA code (2011)``, population
``Total population: mid 2015 (excluding prisoners)``) and IoD2025 (33,755 LSOAs, 2021 codes,
``LSOA code (2021)``, ``Total population: mid 2022``). Columns are matched by *prefix*, so the
2025 files whose long headers were cut short (``... Decile (where 1 is most deprived 10%``)
still match; thousands separators (``"1,795"``) are stripped; a UTF-8 byte-order mark is
dropped and latin-1 lines are tolerated (see :mod:`evaluation.csv_source`).

Wales (WIMD), Scotland (SIMD) and Northern Ireland (NIMDM) files are recognised loosely by
their rank columns (a CSV saved from the published spreadsheets). Each row carries its
``nation``; ranks and deciles are *within that nation* and must never be pooled with
England's. Where a file has no decile column the decile is derived from the rank as
``ceil(rank * 10 / areas_in_nation)`` (1,909 Welsh LSOAs, 6,976 Scottish data zones,
890 NI SOAs).

Usage::

    reader = ImdReader("File_7_IoD2025.csv")      # collects per-line errors, keeps going
    for row in reader:
        ...
    reader.errors                                 # [ImportFileError, ...]

    for row in read_imd(path):                    # strict: raises on the first bad line
        ...

A header that cannot be understood always raises :class:`ImportFileError` (``line 1``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from evaluation.csv_source import (
    DecodedLines,
    ImportFileError,
    LineErrors,
    ProgressCallback,
    Source,
    display_column,
    first_record,
    normalise_header,
    open_binary,
    parse_float,
    parse_int,
)

__all__ = [
    "AREAS_PER_NATION",
    "ImdReader",
    "ImdRow",
    "ImportFileError",
    "NATIONS",
    "quintile_from_decile",
    "read_imd",
]

ENGLAND: Final = "england"
WALES: Final = "wales"
SCOTLAND: Final = "scotland"
NORTHERN_IRELAND: Final = "northern_ireland"
NATIONS: Final = (ENGLAND, WALES, SCOTLAND, NORTHERN_IRELAND)

#: Number of small areas ranked, per (nation, edition); ``None`` edition = any edition.
AREAS_PER_NATION: Final[dict[tuple[str, str | None], int]] = {
    (ENGLAND, "2019"): 32_844,
    (ENGLAND, "2025"): 33_755,
    (WALES, None): 1_909,
    (SCOTLAND, None): 6_976,
    (NORTHERN_IRELAND, None): 890,
}

_CODE_PREFIX: Final = {
    ENGLAND: ("E01",),
    WALES: ("W01",),
    SCOTLAND: ("S01",),
    NORTHERN_IRELAND: ("95",),
}
_NATION_LABEL: Final = {
    ENGLAND: "an England LSOA code",
    WALES: "a Wales LSOA code",
    SCOTLAND: "a Scotland data zone code",
    NORTHERN_IRELAND: "a Northern Ireland SOA code",
}


def quintile_from_decile(decile: int) -> int:
    """Quintile = ceil(decile / 2): Q1 = deciles 1-2 = most deprived 20%."""
    if not 1 <= decile <= 10:
        raise ValueError(f"decile must be 1-10, not {decile}")
    return (decile + 1) // 2


@dataclass(frozen=True, slots=True)
class ImdRow:
    """One small area (LSOA / data zone / SOA) of an Indices of Deprivation file."""

    lsoa_code: str
    lsoa_name: str | None
    lad_code: str | None
    lad_name: str | None
    imd_score: float | None
    imd_rank: int
    imd_decile: int
    population: int | None
    edition: str
    nation: str

    @property
    def imd_quintile(self) -> int:
        return quintile_from_decile(self.imd_decile)


# Field matchers: regular expressions matched (fullmatch) against normalised headers, tried in
# order; "prefix" patterns end in ".*". Fields are claimed in _FIELD_ORDER so that, e.g., a
# decile header is never taken as the rank.
_FIELD_ORDER: Final = (
    "lsoa_code",
    "lsoa_name",
    "lad_code",
    "lad_name",
    "imd_score",
    "imd_decile",
    "imd_rank",
    "population",
)

_PATTERNS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    ENGLAND: {
        "lsoa_code": (r"lsoa code.*",),
        "lsoa_name": (r"lsoa name.*",),
        "lad_code": (r"local authority district code.*",),
        "lad_name": (r"local authority district name.*",),
        "imd_score": (r"index of multiple deprivation \(imd\) score.*",),
        "imd_decile": (r"index of multiple deprivation \(imd\) decile.*",),
        "imd_rank": (r"index of multiple deprivation \(imd\) rank.*",),
        "population": (r"total population: mid.*",),
    },
    WALES: {
        "lsoa_code": (r"lsoa code.*", r"lsoa.*code"),
        "lsoa_name": (r"lsoa name \(eng.*", r"lsoa name.*"),
        "lad_code": (r"local authority code.*",),
        "lad_name": (r"local authority name \(eng.*", r"local authority name.*"),
        "imd_score": (r"wimd \d{4} score.*",),
        "imd_decile": (r"wimd \d{4} decile.*", r"wimd decile.*"),
        "imd_rank": (r"wimd \d{4} rank.*", r"wimd \d{4}", r"wimd rank.*"),
        "population": (r"total population.*", r"population.*"),
    },
    SCOTLAND: {
        "lsoa_code": (r"data_?zone", r"dz", r"data zone( code)?"),
        "lsoa_name": (r"dzname", r"data_?zone_?name", r"data zone name"),
        "lad_code": (r"lacode", r"council_?area_?code"),
        "lad_name": (r"council_?area", r"laname", r"council area( name)?"),
        "imd_score": (),
        "imd_decile": (r"simd_?\d{4}(v\d+)?_decile",),
        "imd_rank": (r"simd_?\d{4}(v\d+)?_rank",),
        "population": (r"total_?population", r"population"),
    },
    NORTHERN_IRELAND: {
        "lsoa_code": (r"soa2001", r"soa_?code", r"soa"),
        "lsoa_name": (r"soa2001_?name", r"soa_?name"),
        "lad_code": (r"lgd2014_?code", r"lgd_?code"),
        "lad_name": (r"lgd2014_?name", r"lgd_?name"),
        "imd_score": (r"mdm_?score",),
        "imd_decile": (r"mdm_?decile", r"nimdm\d* decile.*"),
        "imd_rank": (r"mdm_?rank", r"nimdm\d* rank.*", r"multiple deprivation measure rank.*"),
        "population": (r"total population.*", r"population.*"),
    },
}

_REQUIRED: Final = {
    ENGLAND: ("lsoa_code", "imd_rank", "imd_decile"),
    WALES: ("lsoa_code", "imd_rank"),
    SCOTLAND: ("lsoa_code", "imd_rank"),
    NORTHERN_IRELAND: ("lsoa_code", "imd_rank"),
}


def _detect_nation(headers: list[str]) -> str | None:
    if any(h.startswith("index of multiple deprivation (imd)") for h in headers):
        return ENGLAND
    if any(h.startswith("wimd") for h in headers):
        return WALES
    if any(re.fullmatch(r"simd_?\d{4}(v\d+)?_rank", h) for h in headers):
        return SCOTLAND
    if any(h.startswith(("mdm", "nimdm")) for h in headers):
        return NORTHERN_IRELAND
    return None


def _match_columns(nation: str, headers: list[str]) -> dict[str, int]:
    claimed: set[int] = set()
    found: dict[str, int] = {}
    for field in _FIELD_ORDER:
        for pattern in _PATTERNS[nation][field]:
            regex = re.compile(pattern)
            hit = next(
                (i for i, h in enumerate(headers) if i not in claimed and regex.fullmatch(h)),
                None,
            )
            if hit is not None:
                found[field] = hit
                claimed.add(hit)
                break
    return found


def _detect_edition(nation: str, headers: list[str], columns: dict[str, int]) -> str | None:
    if nation == ENGLAND:
        code_header = headers[columns["lsoa_code"]]
        if "(2011)" in code_header:
            return "2019"
        if "(2021)" in code_header:
            return "2025"
        if "population" in columns:
            pop = headers[columns["population"]]
            if "mid 2015" in pop:
                return "2019"
            if "mid 2022" in pop:
                return "2025"
        return None
    year = re.search(r"(?:19|20)\d{2}", headers[columns["imd_rank"]])
    return year.group(0) if year else None


class ImdReader(LineErrors):
    """Iterate :class:`ImdRow` from an IoD file, collecting per-line errors.

    Bad lines are skipped and recorded in :attr:`errors` (at most ``max_errors`` kept;
    :attr:`error_count` counts all); good lines still yield. With ``strict=True`` the first bad
    line raises instead. ``edition`` overrides (or supplies) the edition when the headers do
    not say. Header problems always raise.
    """

    def __init__(
        self,
        source: Source,
        *,
        progress: ProgressCallback | None = None,
        edition: str | None = None,
        strict: bool = False,
        max_errors: int = 1000,
        member: str | None = None,
    ) -> None:
        super().__init__(strict=strict, max_errors=max_errors)
        self._source = source
        self._progress = progress
        self._edition_override = edition
        self._member = member
        self.rows_read = 0
        self.nation: str | None = None
        self.edition: str | None = None
        #: field name -> the header text as it appears in the file
        self.columns: dict[str, str] = {}

    @property
    def expected_rows(self) -> int | None:
        """The published number of areas for this nation/edition, when known."""
        if self.nation is None:
            return None
        return AREAS_PER_NATION.get(
            (self.nation, self.edition), AREAS_PER_NATION.get((self.nation, None))
        )

    def __iter__(self) -> Iterator[ImdRow]:
        self._reset_errors()
        self.rows_read = 0
        with open_binary(self._source, member=self._member) as binary:
            lines = self._lines = DecodedLines(binary, progress=self._progress)
            reader = csv.reader(lines)
            raw_headers = first_record(reader)
            columns, labels = self._read_header(raw_headers)
            assert self.nation is not None and self.edition is not None
            nation, edition, total_areas = self.nation, self.edition, self.expected_rows
            seen: set[str] = set()
            for record in reader:
                if not any(cell.strip() for cell in record):
                    continue
                try:
                    row = _parse_row(
                        record,
                        columns,
                        labels,
                        nation,
                        edition,
                        total_areas,
                        reader.line_num,
                        seen,
                    )
                except ImportFileError as error:
                    self._record(error)
                    continue
                seen.add(row.lsoa_code)
                self.rows_read += 1
                yield row

    def _read_header(self, raw_headers: list[str]) -> tuple[dict[str, int], dict[str, str]]:
        headers = [normalise_header(h) for h in raw_headers]
        nation = _detect_nation(headers)
        if nation is None:
            raise ImportFileError(
                "not an Indices of Deprivation file: no 'Index of Multiple Deprivation (IMD)'"
                " (or WIMD/SIMD/NIMDM) rank column in the header",
                line=1,
            )
        columns = _match_columns(nation, headers)
        missing = [f for f in _REQUIRED[nation] if f not in columns]
        if missing:
            raise ImportFileError(
                "missing column(s): " + ", ".join(_describe_field(nation, f) for f in missing),
                line=1,
            )
        edition = self._edition_override or _detect_edition(nation, headers, columns)
        if edition is None:
            raise ImportFileError("cannot tell the edition from the headers; pass edition=", line=1)
        self.nation = nation
        self.edition = edition
        self.columns = {field: raw_headers[i].replace("\ufeff", "") for field, i in columns.items()}
        labels = {field: display_column(raw_headers[i]) for field, i in columns.items()}
        return columns, labels


def _describe_field(nation: str, field: str) -> str:
    examples = {
        "lsoa_code": "'LSOA code (2011)' or 'LSOA code (2021)'",
        "imd_rank": "'Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)'",
        "imd_decile": "'Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived"
        " 10% of LSOAs)'",
    }
    if nation == ENGLAND and field in examples:
        return examples[field]
    return field


def _cell(record: list[str], columns: dict[str, int], field: str) -> str:
    index = columns.get(field)
    if index is None or index >= len(record):
        return ""
    return record[index].strip()


def _parse_row(
    record: list[str],
    columns: dict[str, int],
    labels: dict[str, str],
    nation: str,
    edition: str,
    total_areas: int | None,
    line: int | None,
    seen: set[str],
) -> ImdRow:
    def fail(field: str, value: str | None, reason: str) -> ImportFileError:
        return ImportFileError(reason, line=line, column=labels.get(field, field), value=value)

    def whole(field: str, *, required: bool) -> int | None:
        text = _cell(record, columns, field)
        if not text:
            if required:
                raise fail(field, None, "is empty")
            return None
        try:
            return parse_int(text)
        except ValueError as exc:
            raise fail(field, text, str(exc)) from None

    code = _cell(record, columns, "lsoa_code").upper()
    if not code:
        raise fail("lsoa_code", None, "is empty")
    if not code.startswith(_CODE_PREFIX[nation]):
        raise fail("lsoa_code", code, f"is not {_NATION_LABEL[nation]}")
    if code in seen:
        raise fail("lsoa_code", code, "appears more than once")

    rank = whole("imd_rank", required=True)
    assert rank is not None
    if rank < 1 or (total_areas is not None and rank > total_areas):
        upper = f" and {total_areas:,}" if total_areas is not None else ""
        raise fail("imd_rank", str(rank), f"is not between 1{upper}")

    if "imd_decile" in columns:
        decile = whole("imd_decile", required=True)
        assert decile is not None
        if not 1 <= decile <= 10:
            raise fail("imd_decile", str(decile), "is not between 1 and 10")
    elif total_areas is not None:
        decile = -(-rank * 10 // total_areas)
    else:  # pragma: no cover - every nation has a known area count
        raise fail("imd_decile", None, "is missing and cannot be derived")

    score_text = _cell(record, columns, "imd_score")
    score: float | None = None
    if score_text:
        try:
            score = parse_float(score_text)
        except ValueError as exc:
            raise fail("imd_score", score_text, str(exc)) from None

    population = whole("population", required=False)
    if population is not None and population < 0:
        raise fail("population", str(population), "is negative")

    return ImdRow(
        lsoa_code=code,
        lsoa_name=_cell(record, columns, "lsoa_name") or None,
        lad_code=_cell(record, columns, "lad_code") or None,
        lad_name=_cell(record, columns, "lad_name") or None,
        imd_score=score,
        imd_rank=rank,
        imd_decile=decile,
        population=population,
        edition=edition,
        nation=nation,
    )


def read_imd(
    source: Source,
    *,
    progress: ProgressCallback | None = None,
    edition: str | None = None,
    member: str | None = None,
) -> Iterator[ImdRow]:
    """Stream :class:`ImdRow` from an IoD file; raise :class:`ImportFileError` on the first
    bad line (use :class:`ImdReader` to collect errors and keep going)."""
    yield from ImdReader(source, progress=progress, edition=edition, strict=True, member=member)

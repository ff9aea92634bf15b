import io
import zipfile
from pathlib import Path

import pytest

from evaluation.imd_import import (
    ImdReader,
    ImdRow,
    ImportFileError,
    quintile_from_decile,
    read_imd,
)

DATA = Path(__file__).parent / "data"
IOD2019 = DATA / "iod2019_file7_excerpt.csv"
IOD2025 = DATA / "iod2025_file7_excerpt.csv"

HEADER_2019 = (
    "LSOA code (2011),LSOA name (2011),Local Authority District code (2019),"
    "Local Authority District name (2019),Index of Multiple Deprivation (IMD) Score,"
    "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived),"
    "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs),"
    "Total population: mid 2015 (excluding prisoners)\r\n"
)


def _write(tmp_path: Path, text: str, name: str = "iod.csv", encoding: str = "utf-8-sig") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_iod2019_file7_excerpt() -> None:
    reader = ImdReader(IOD2019)
    rows = list(reader)
    assert reader.errors == []
    assert reader.nation == "england"
    assert reader.edition == "2019"
    assert reader.expected_rows == 32_844
    assert reader.columns["lsoa_code"] == "LSOA code (2011)"  # BOM gone
    assert reader.columns["population"] == "Total population: mid 2015 (excluding prisoners)"
    assert len(rows) == 6
    assert rows[0] == ImdRow(
        lsoa_code="E01000001",
        lsoa_name="City of London 001A",
        lad_code="E09000001",
        lad_name="City of London",
        imd_score=6.208,
        imd_rank=29199,
        imd_decile=9,
        population=1296,
        edition="2019",
        nation="england",
    )
    assert [r.imd_quintile for r in rows] == [5, 1, 1, 2, 3, 5]


def test_iod2025_truncated_header_and_thousands_separators() -> None:
    reader = ImdReader(IOD2025)
    rows = list(reader)
    assert reader.errors == []
    assert reader.edition == "2025"
    assert reader.expected_rows == 33_755
    assert reader.columns["imd_decile"] == (
        "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10%"
    )
    first = rows[0]
    assert (first.lsoa_code, first.imd_rank, first.imd_decile) == ("E01000001", 26525, 8)
    assert first.population == 1795
    assert first.lad_code == "E09000001"
    assert [r.imd_rank for r in rows] == [26525, 987, 5430, 13980, 32760]
    assert sum(r.population or 0 for r in rows) == 1795 + 1702 + 1688 + 1503 + 1420


def test_read_imd_strict_generator_matches_reader() -> None:
    assert list(read_imd(IOD2025)) == list(ImdReader(IOD2025))


def test_bad_lines_are_collected_and_good_rows_still_yield(tmp_path: Path) -> None:
    text = (
        HEADER_2019
        + "E01000001,City of London 001A,E09000001,City of London,6.208,29199,9,1296\r\n"
        + "E01000002,City of London 001B,E09000001,City of London,5.1,30000,x,1156\r\n"
        + "E01000003,City of London 001C,E09000001,City of London,19.2,14000,11,1350\r\n"
        + "E01000005,City of London 001E,E09000001,City of London,31.0,x1,3,1121\r\n"
        + "E01000001,City of London 001A,E09000001,City of London,6.208,29199,9,1296\r\n"
        + "W01000001,Anglesey,W06000001,Isle of Anglesey,1,1,1,1\r\n"
        + ",,,,,,,\r\n"
        + "E01000006,Barking 016A,E09000002,Barking and Dagenham,40.1,99999,2,\r\n"
        + 'E01000007,Barking 015A,E09000002,Barking and Dagenham,abc,3000,1,"2,001"\r\n'
        + 'E01000008,Barking 015B,E09000002,Barking and Dagenham,44.5,"2,010",1,"1,23"\r\n'
        + 'E01000009,Barking 016B,E09000002,Barking and Dagenham,44.5,2011,1,"1,923"\r\n'
    )
    reader = ImdReader(_write(tmp_path, text))
    rows = list(reader)
    assert [r.lsoa_code for r in rows] == ["E01000001", "E01000009"]
    assert rows[1].population == 1923
    messages = [str(e) for e in reader.errors]
    assert messages == [
        "line 3: Index of Multiple Deprivation (IMD) Decile: 'x' is not a whole number",
        "line 4: Index of Multiple Deprivation (IMD) Decile: '11' is not between 1 and 10",
        "line 5: Index of Multiple Deprivation (IMD) Rank: 'x1' is not a whole number",
        "line 6: LSOA code (2011): 'E01000001' appears more than once",
        "line 7: LSOA code (2011): 'W01000001' is not an England LSOA code",
        "line 9: Index of Multiple Deprivation (IMD) Rank: '99999' is not between 1 and 32,844",
        "line 10: Index of Multiple Deprivation (IMD) Score: 'abc' is not a number",
        "line 11: Total population: mid 2015 (excluding prisoners): '1,23' is not a whole number",
    ]
    assert reader.error_count == 8
    assert reader.errors[0].line == 3
    assert reader.errors[0].value == "x"


def test_strict_read_imd_raises_on_first_bad_line(tmp_path: Path) -> None:
    text = (
        HEADER_2019
        + "E01000001,A,E09000001,B,6.2,29199,9,1296\r\n"
        + "E01000002,A,E09000001,B,5.1,30000,x,1156\r\n"
    )
    rows = read_imd(_write(tmp_path, text))
    assert next(rows).lsoa_code == "E01000001"
    with pytest.raises(ImportFileError) as info:
        next(rows)
    assert str(info.value) == (
        "line 3: Index of Multiple Deprivation (IMD) Decile: 'x' is not a whole number"
    )


def test_max_errors_bounds_memory(tmp_path: Path) -> None:
    body = "".join(f"E01{i:06d},A,E09000001,B,1.0,1,x,1\r\n" for i in range(50))
    reader = ImdReader(_write(tmp_path, HEADER_2019 + body), max_errors=5)
    assert list(reader) == []
    assert len(reader.errors) == 5
    assert reader.error_count == 50


def test_missing_required_column_is_a_header_error(tmp_path: Path) -> None:
    text = (
        "LSOA code (2011),LSOA name (2011),Index of Multiple Deprivation (IMD) Score,"
        "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)\r\n"
        "E01000001,A,6.2,29199\r\n"
    )
    with pytest.raises(ImportFileError) as info:
        list(read_imd(_write(tmp_path, text)))
    assert info.value.line == 1
    assert "Decile" in str(info.value)


def test_not_an_iod_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="line 1: not an Indices of Deprivation file"):
        list(read_imd(_write(tmp_path, "name,age\r\nAnn,4\r\n")))
    with pytest.raises(ImportFileError, match="line 1: the file is empty"):
        list(read_imd(_write(tmp_path, "")))


def test_edition_must_be_known(tmp_path: Path) -> None:
    text = (
        "LSOA code,Index of Multiple Deprivation (IMD) Rank,"
        "Index of Multiple Deprivation (IMD) Decile\r\nE01000001,1,1\r\n"
    )
    path = _write(tmp_path, text)
    with pytest.raises(ImportFileError, match="edition"):
        list(read_imd(path))
    rows = list(read_imd(path, edition="2019"))
    assert rows[0].edition == "2019"
    assert rows[0].population is None


def test_binary_file_object_and_progress() -> None:
    data = IOD2019.read_bytes()
    seen: list[int] = []
    rows = list(read_imd(io.BytesIO(data), progress=seen.append))
    assert len(rows) == 6
    assert sum(seen) == len(data)


def test_text_file_object_is_refused() -> None:
    with pytest.raises(TypeError, match="binary"):
        list(read_imd(io.StringIO("LSOA code (2011)\n")))  # type: ignore[arg-type]


def test_utf16_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes(HEADER_2019.encode("utf-16"))
    with pytest.raises(ImportFileError, match="UTF-16"):
        list(read_imd(path))


def test_zip_archive_is_streamed(tmp_path: Path) -> None:
    archive = tmp_path / "iod.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "not data")
        zf.write(IOD2025, "Data/File_7_IoD2025.csv")
    assert [r.lsoa_code for r in read_imd(archive)][:2] == ["E01000001", "E01005063"]


def test_scotland_simd_loosely(tmp_path: Path) -> None:
    text = (
        "Data_Zone,Intermediate_Zone,Council_area,Total_population,Working_Age_population,"
        "SIMD2020v2_Rank,SIMD_2020v2_Percentile,SIMD2020v2_Vigintile,SIMD2020v2_Decile,"
        "SIMD2020v2_Quintile,SIMD2020v2_Income_Domain_Rank\r\n"
        "S01006506,Culter,Aberdeen City,894,536,4691,68,14,7,4,5225\r\n"
        'S01010206,Glasgow Central,Glasgow City,"1,016",700,1,1,1,1,1,3\r\n'
    )
    reader = ImdReader(_write(tmp_path, text, encoding="utf-8"))
    rows = list(reader)
    assert reader.errors == []
    assert reader.nation == "scotland"
    assert reader.edition == "2020"
    assert reader.expected_rows == 6_976
    assert [(r.lsoa_code, r.imd_rank, r.imd_decile, r.population) for r in rows] == [
        ("S01006506", 4691, 7, 894),
        ("S01010206", 1, 1, 1016),
    ]
    assert rows[0].lad_name == "Aberdeen City"
    assert all(r.nation == "scotland" for r in rows)


def test_wales_wimd_decile_derived_from_rank_and_latin1_line(tmp_path: Path) -> None:
    text = (
        "LSOA code,LSOA name (Eng),LSOA name (Welsh),Local authority name (Eng),"
        "Local authority name (Welsh),WIMD 2019,Income,Employment\r\n"
        "W01000001,Isle of Anglesey 001A,Ynys Môn 001A,Isle of Anglesey,Ynys Môn,1191,1,1\r\n"
        "W01001958,Cardiff 032F,Caerdydd 032F,Cardiff,Caerdydd,1,1,1\r\n"
        "W01001959,Cardiff 032G,Caerdydd 032G,Cardiff,Caerdydd,1909,1,1\r\n"
        "W01001960,Cardiff 032H,Caerdydd 032H,Cardiff,Caerdydd,190,1,1\r\n"
        "W01001961,Cardiff 032I,Caerdydd 032I,Cardiff,Caerdydd,191,1,1\r\n"
    )
    reader = ImdReader(_write(tmp_path, text, encoding="latin-1"))
    rows = list(reader)
    assert reader.errors == []
    assert reader.nation == "wales"
    assert reader.edition == "2019"
    assert reader.latin1_lines == 1
    assert rows[0].lsoa_name == "Isle of Anglesey 001A"
    # decile = ceil(rank * 10 / 1909)
    assert [r.imd_decile for r in rows] == [7, 1, 10, 1, 2]


def test_quintile_from_decile() -> None:
    assert [quintile_from_decile(d) for d in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    with pytest.raises(ValueError):
        quintile_from_decile(0)

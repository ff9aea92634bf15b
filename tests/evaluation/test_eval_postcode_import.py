import tracemalloc
from pathlib import Path

import pytest

from evaluation.postcode_import import (
    ImportFileError,
    PostcodeLookupReader,
    PostcodeRow,
    read_postcode_lookup,
)

DATA = Path(__file__).parent / "data"
NSPL = DATA / "nspl21_aug2024_excerpt_latin1.csv"
PCD_LOOKUP = DATA / "pcd_oa21_lsoa21_msoa21_lad_excerpt.csv"

NSPL_2025_HEADER = (
    "pcd7,pcd8,pcds,dointr,doterm,usrtypind,east1m,north1m,gridind,oa21cd,cty25cd,ced25cd,"
    "lad25cd,wd25cd,nhser24cd,ctry25cd,rgn25cd,pcon24cd,ttwa15cd,itl25cd,npark16cd,lsoa21cd,"
    "msoa21cd,wz11cd,sicbl24cd,bua24cd,ruc21ind,oac11ind,lat,long,lep21cd1,lep21cd2,pfa23cd,"
    "imd20ind,icb23cd"
)


def test_nspl_latin1_keeps_terminated_and_skips_pseudo_lsoas() -> None:
    reader = PostcodeLookupReader(NSPL)
    rows = list(reader)
    assert rows == [
        PostcodeRow("BB11 3DF", "E01005063", terminated=False),
        PostcodeRow("BB11 4BX", "E01005064", terminated=True),
        PostcodeRow("M1 1AE", "E01033654", terminated=False),
    ]
    assert reader.lsoa_vintage == "2021"
    assert reader.columns == {"postcode": "pcds", "lsoa_code": "lsoa21", "doterm": "doterm"}
    assert reader.rows_read == 3
    assert reader.terminated_rows == 1
    assert reader.rows_without_lsoa == 2  # AB1 0AA (Scotland, no lsoa21) and GY1 1AA (L99999999)
    assert reader.errors == []


def test_pcd_oa_lsoa_lookup_latin1_names() -> None:
    reader = PostcodeLookupReader(PCD_LOOKUP)
    rows = list(reader)
    assert [(r.pcds, r.lsoa_code, r.terminated) for r in rows] == [
        ("BB11 3DF", "E01005063", False),
        ("BB11 4BX", "E01005064", True),
        ("LL77 7TW", "W01000001", False),
        ("CF10 1AA", "W01001862", False),
    ]
    assert reader.columns["lsoa_code"] == "lsoa21cd"
    assert reader.latin1_lines == 1  # the "Ynys Môn" line


def test_upper_case_headers_and_vintage_choice(tmp_path: Path) -> None:
    path = tmp_path / "onspd.csv"
    path.write_text(
        "PCD,PCD2,PCDS,DOINTR,DOTERM,LSOA11,LSOA21,LAT,LONG\n"
        '"BB113DF","BB11 3DF","BB11 3DF","198001","","E01005063","E01035001",53.7,-2.2\n'
        '"BB114BX","BB11 4BX","BB11 4BX","198001","200412","E01005064","E01035002",53.7,-2.2\n',
        encoding="utf-8",
    )
    newest = list(read_postcode_lookup(path))
    assert [r.lsoa_code for r in newest] == ["E01035001", "E01035002"]
    old = PostcodeLookupReader(path, lsoa_vintage="2011")
    assert [r.lsoa_code for r in old] == ["E01005063", "E01005064"]
    assert old.lsoa_vintage == "2011"
    assert old.columns["lsoa_code"] == "LSOA11"
    with pytest.raises(ImportFileError, match="no 2001 LSOA column"):
        list(read_postcode_lookup(path, lsoa_vintage="2001"))
    with pytest.raises(ValueError):
        PostcodeLookupReader(path, lsoa_vintage="21")


def test_only_pcd7_is_normalised_to_pcds(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text(
        "pcd7,dointr,doterm,oa11cd,lsoa11cd\n"
        "M1  1AE,198001,,E00025678,E01005206\n"
        "BB113DF,198001,201012,E00127041,E01025063\n"
        "SW1A1AA,198001,,E00023938,E01004736\n",
        encoding="utf-8",
    )
    rows = list(read_postcode_lookup(path))
    assert [(r.pcds, r.lsoa_code, r.terminated) for r in rows] == [
        ("M1 1AE", "E01005206", False),
        ("BB11 3DF", "E01025063", True),
        ("SW1A 1AA", "E01004736", False),
    ]


def test_2025_nspl_header(tmp_path: Path) -> None:
    columns = NSPL_2025_HEADER.split(",")
    values = {c: "" for c in columns}
    values.update(
        pcd7="CA8 7JG",
        pcd8="CA8  7JG",
        pcds="CA8 7JG",
        dointr="200006",
        lsoa21cd="E01027484",
        lat="54.9",
        long="-2.5",
    )
    path = tmp_path / "nspl25.csv"
    path.write_bytes(
        (NSPL_2025_HEADER + "\r\n" + ",".join(f'"{values[c]}"' for c in columns) + "\r\n").encode(
            "utf-8-sig"
        )
    )
    assert list(read_postcode_lookup(path)) == [PostcodeRow("CA8 7JG", "E01027484", False)]


def test_utf8_non_ascii_stays_utf8(tmp_path: Path) -> None:
    path = tmp_path / "u8.csv"
    path.write_text("pcds,lsoa21cd,ladnmw\nLL77 7TW,W01000001,Ynys Môn\n", encoding="utf-8")
    reader = PostcodeLookupReader(path)
    assert len(list(reader)) == 1
    assert reader.latin1_lines == 0


def test_bad_lines_are_collected(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "pcds,lsoa21,doterm\n"
        "BB11 3DF,E01005063,\n"
        ",E01005064,\n"
        "NOT A POSTCODE,E01005064,\n"
        "BB11 4BX\n"
        "\n"
        "bb11 4bx,e01005064,200412\n",
        encoding="utf-8",
    )
    reader = PostcodeLookupReader(path)
    rows = list(reader)
    assert rows == [
        PostcodeRow("BB11 3DF", "E01005063", False),
        PostcodeRow("BB11 4BX", "E01005064", True),
    ]
    assert [str(e) for e in reader.errors] == [
        "line 3: pcds: is empty",
        "line 4: pcds: 'NOT A POSTCODE' is not a postcode",
        "line 5: has 1 fields; the header has 3",
    ]
    with pytest.raises(ImportFileError, match="line 3"):
        list(read_postcode_lookup(path))


def test_header_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("postcode,lsoa\nBB11 3DF,E01005063\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="line 1: not an ONS postcode lookup"):
        list(read_postcode_lookup(path))
    path.write_text("pcds,oa21cd\nBB11 3DF,E00000001\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="line 1: no LSOA column"):
        list(read_postcode_lookup(path))


def _big_lookup(path: Path, rows: int) -> int:
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("pcd7,pcd8,pcds,dointr,doterm,usertype,oa21cd,lsoa21cd,msoa21cd,ladcd\r\n")
        for i in range(rows):
            outward = f"B{i // 4000 % 100}"
            inward = f"{i % 10}{chr(65 + i // 10 % 26)}{chr(65 + i // 260 % 26)}"
            pcds = f"{outward} {inward}"
            doterm = "201001" if i % 7 == 0 else ""
            fh.write(
                f'"{outward:<4}{inward}","{outward:<4} {inward}","{pcds}","198001","{doterm}",'
                f'"0","E00{i:06d}","E01{i // 5:06d}","E02000001","E08000025"\r\n'
            )
    return path.stat().st_size


def test_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    rows = 30_000
    size = _big_lookup(path, rows)
    assert size > 2_500_000
    progress: list[int] = []
    tracemalloc.start()
    try:
        count = terminated = 0
        for row in read_postcode_lookup(path, progress=progress.append):
            count += 1
            terminated += row.terminated
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == rows
    assert terminated == len(range(0, rows, 7))
    assert peak < 500_000, f"peak {peak} bytes for a {size}-byte file"
    assert sum(progress) == size


def test_is_lazy(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    size = _big_lookup(path, 50_000)
    with path.open("rb") as fh:
        rows = read_postcode_lookup(fh)
        assert next(rows).pcds == "B0 0AA"
        assert fh.tell() < size // 20  # only the first buffer or so has been read

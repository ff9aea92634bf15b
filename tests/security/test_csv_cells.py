"""CSV injection: every CSV the platform writes goes through ``kernel.csv_writer``, which
neutralises cells a spreadsheet would run (OWASP), and leaves numbers numbers.

Each download is checked end to end (both backends) with a name an organiser, a file or a
box could give: ``=HYPERLINK("http://x","y")``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.deps import server_now
from evaluation import exports
from harness.game_files import game_file
from kernel import csv_writer
from tests.checkpoints.cp_helpers import NOW, Clock, iso, post_signed
from tests.evaluation.eval_helpers import existing_game, token
from tests.helpers import auth

EVIL = '=HYPERLINK("http://x","y")'
ROOT = Path(__file__).resolve().parents[2]


def read(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def write(row: list[Any]) -> str:
    buffer = io.StringIO()
    csv_writer.writer(buffer).writerow(row)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (EVIL, "'" + EVIL),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("  =1+1", "'  =1+1"),
        ("\n@x", "'\n@x"),
        ("-", "'-"),
        ("Queen's Park gates", "Queen's Park gates"),
        ("a=b", "a=b"),
        ("", ""),
        ("-3", "-3"),
        ("-0.5", "-0.5"),
        ("+1e3", "+1e3"),
        (" -7 ", " -7 "),
        (-3, -3),
        (-0.5, -0.5),
        (None, None),
    ],
)
def test_cells_are_neutralised_and_numbers_stay_numbers(value: Any, written: Any) -> None:
    assert csv_writer.safe_cell(value) == written
    [[cell]] = list(csv.reader(io.StringIO(write([value]))))
    assert cell == ("" if written is None else str(written))


def test_dict_writer_neutralises_and_keeps_the_csv_module_behaviour() -> None:
    buffer = io.StringIO()
    w = csv_writer.dict_writer(buffer, ["name", "value"])
    w.writeheader()
    w.writerow({"name": EVIL, "value": -1.5})
    w.writerow({"name": "plain"})
    assert (
        buffer.getvalue() == 'name,value\r\n"\'=HYPERLINK(""http://x"",""y"")",-1.5\r\nplain,\r\n'
    )
    with pytest.raises(ValueError, match="not in fieldnames"):
        w.writerow({"other": 1})


def test_no_csv_writer_outside_the_one_writer() -> None:
    """A new ``csv.writer`` elsewhere would write cells unneutralised."""
    pattern = re.compile(
        r"\bcsv\s*\.\s*(writer|DictWriter)\s*\(|from\s+csv\s+import\s+.*\b(writer|DictWriter)\b"
    )
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in ("tests", ".venv", "build") or relative == Path(
            "kernel/csv_writer.py"
        ):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []
    assert pattern.search((ROOT / "kernel/csv_writer.py").read_text())  # the one writer


# ------------------------------------------------------------------ downloads


def hostile_game(slug: str) -> dict[str, Any]:
    data = game_file(slug)
    data["game"]["name"] = EVIL
    data["checkpoints"][0]["name"] = EVIL
    data["teams"][0]["name"] = EVIL
    return data


@pytest.fixture
async def hostile(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str, slug: str
) -> AsyncIterator[str]:
    app.dependency_overrides[server_now] = Clock(NOW)
    try:
        loaded = await client.put(
            f"/api/v1/admin/games/{slug}", json=hostile_game(slug), headers=auth(organiser_token)
        )
        assert loaded.status_code == 200, loaded.text
        yield slug
    finally:
        app.dependency_overrides.pop(server_now, None)


async def test_boxes_csv_neutralises_names_and_firmware(
    client: httpx.AsyncClient, organiser_token: str, hostile: str
) -> None:
    reader, secret = f"R-{hostile}-A", f"{hostile}-A-" + "s" * 32
    raw = json.dumps({"sent_at": iso(NOW), "battery_pct": 80, "firmware": EVIL}).encode()
    beat = await post_signed(client, f"/api/v1/readers/{reader}/heartbeat", raw, secret)
    assert beat.status_code == 200, beat.text
    r = await client.get(
        f"/api/v1/admin/games/{hostile}/boxes?format=csv", headers=auth(organiser_token)
    )
    assert r.status_code == 200, r.text
    [box] = [row for row in read(r.text) if row["reader_id"] == reader]
    assert box["checkpoint_name"] == "'" + EVIL
    assert box["firmware"] == "'" + EVIL
    assert box["battery_pct"] == "80"


async def test_report_csv_neutralises_the_game_name(
    client: httpx.AsyncClient, organiser_token: str, hostile: str
) -> None:
    r = await client.get(
        f"/api/v1/admin/games/{hostile}/reports/evaluation?format=csv",
        headers=auth(organiser_token),
    )
    assert r.status_code == 200, r.text
    rows = read(r.text)
    [name] = [row["value"] for row in rows if row["metric"] == "name"]
    assert name == "'" + EVIL
    assert not any(cell.startswith("=") for row in rows for cell in row.values())


async def test_export_files_go_through_the_one_writer(
    app: FastAPI,
    client: httpx.AsyncClient,
    organiser_token: str,
    hostile: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Export columns are controlled vocabularies today; a text column added tomorrow must
    still come out neutralised (the rows are replaced here to carry one)."""

    made = await client.post(
        f"/api/v1/admin/games/{hostile}/evaluation-projects",
        json={"name": "inj"},
        headers=auth(organiser_token),
    )
    assert made.status_code == 201, made.text
    game = await existing_game(app, hostile, organiser_token)
    evaluator = await token(app, "evaluator", game_id=game.id)

    async def rows(*args: Any, **kwargs: Any) -> AsyncIterator[list[tuple[Any, ...]]]:
        width = len(exports.COLUMNS["players"])
        yield [(EVIL, "-3", -3, *([None] * (width - 3)))]

    monkeypatch.setattr(exports, "rows", rows)
    r = await client.get(f"/api/v1/games/{hostile}/exports/inj/players", headers=auth(evaluator))
    assert r.status_code == 200, r.text
    [row] = list(csv.reader(io.StringIO(r.text)))[1:]
    assert row[:3] == ["'" + EVIL, "-3", "-3"]

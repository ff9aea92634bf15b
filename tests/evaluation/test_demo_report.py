"""The demo town's evaluation report has something to show in every section: the demo is
prepared as `taptrail demo` prepares it (its own SQLite file, the generated survey answers),
taps are simulated through the real upload endpoint as the demo's history is, and the
report is read over the API. In a child process: prepare_demo sets process-wide settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evaluation.report_scores import GROUPS

ROOT = Path(__file__).resolve().parents[2]
HISTORY_TAPS = 1500

SCRIPT = """
import asyncio, json, sys
from datetime import UTC, datetime, timedelta

import httpx

from taptrail.server import create_app
from simulator.town import TownSimulation
from taptrail.demo_runner import _aware, prepare_demo, shifted_definition

settings, banner = prepare_demo("127.0.0.1", 8000, sys.argv[1])
token = banner.strip().splitlines()[-1].strip()


async def main() -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
            data = shifted_definition()
            sim = TownSimulation(data, client, seed=7, flaky_fraction=0.1, skewed_fraction=0.05)
            now = datetime.now(UTC)
            start = _aware(data["game"]["starts_at"])
            history = sim.generate(int(sys.argv[2]), start, now - timedelta(minutes=5))
            await sim.deliver(history, upload_every=250)
            url = "/api/v1/admin/games/burnley-demo/reports/evaluation"
            response = await client.get(url, headers={"Authorization": "Bearer " + token})
            assert response.status_code == 200, response.text
            print("REPORT " + json.dumps(response.json()))


asyncio.run(main())
"""


def _numbers(node: Any) -> int:
    """How many numbers (not '*', not null) a block holds."""
    if isinstance(node, bool):
        return 0
    if isinstance(node, int | float):
        return 1
    if isinstance(node, dict):
        return sum(_numbers(v) for v in node.values())
    if isinstance(node, list):
        return sum(_numbers(v) for v in node)
    return 0


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("demo-report")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TAPTRAIL_PERIODIC_JOBS": "false"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            f"sqlite+aiosqlite:///{folder / 'demo.db'}",
            str(HISTORY_TAPS),
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("REPORT "))
    data: dict[str, Any] = json.loads(line.removeprefix("REPORT "))
    return data


def test_every_section_of_the_demo_report_has_numbers(report: dict[str, Any]) -> None:
    assert report["instruments"] == ["activity", "belonging", "nature", "ons4", "loneliness"]
    responses = report["survey_responses"]
    assert all(responses[f"wave_{w}"]["responses"] > 0 for w in (1, 2, 3))
    england = report["nations"]["england"]
    sections = [
        "uptake",
        *report["measures"],
        "inequality",
        "reach",
        "effectiveness",
        "active_days",
        "maintenance",
    ]
    for name in sections:
        assert _numbers(england[name]) > 0, f"section {name} has no numbers"
    for measure in report["measures"]:
        for wave in ("wave_2", "wave_3"):
            total = england[measure][wave]["groups"]["total"]
            assert isinstance(total["n_paired"], int) and total["n_paired"] >= 10, (measure, wave)
            assert _numbers(total) >= 5, (measure, wave)
        assert _numbers(england["maintenance"][measure]["groups"]["total"]) >= 3, measure
    assert isinstance(england["reach"]["dissimilarity_index_pct"], float)
    assert _numbers(report["adoption"]["groups"]["school"]) == 4
    boxes = report["implementation"]["boxes"]
    assert boxes["boxes"] == 40 and boxes["median_uptime_pct"] > 0
    assert report["implementation"]["campaigns"]["campaigns_run"] >= 1
    assert england["active_days"]["groups"]["total"]["median_active_days"] is not None


def test_the_demo_has_a_plausible_gradient_by_deprivation(report: dict[str, Any]) -> None:
    """The most deprived start less active than the least deprived, and gain more."""
    england = report["nations"]["england"]
    groups = england["activity"]["wave_2"]["groups"]
    q1, q5 = groups["Q1"], groups["Q5"]
    published = [g for g in GROUPS[:5] if isinstance(groups[g]["inactive_before_pct"], float)]
    assert len(published) >= 2
    if isinstance(q1["inactive_before_pct"], float) and isinstance(
        q5["inactive_before_pct"], float
    ):
        assert q1["inactive_before_pct"] > q5["inactive_before_pct"]
    assert england["reach"]["representativeness_index"]["Q1"] not in (None, 0)

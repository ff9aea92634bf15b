"""The command line: game load (idempotent, reports changes, refuses bad files), tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from harness.game_files import game_file
from kernel.settings import get_settings
from taptrail.cli import main


@pytest.fixture
def cli_env(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    monkeypatch.setenv("TAPTRAIL_DATABASE_URL", database_url)
    monkeypatch.setenv("TAPTRAIL_SECRET_KEY_FILE", str(tmp_path / "key"))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_game_load_twice_then_edit(cli_env: CliRunner, tmp_path: Path, slug: str) -> None:
    data = game_file(slug)
    del data["readers"][0]["secret"]
    path = tmp_path / "game.yaml"
    path.write_text(yaml.safe_dump(data))

    first = cli_env.invoke(main, ["game", "load", str(path)])
    assert first.exit_code == 0, first.output
    assert "Generated reader secrets" in first.output
    assert f"R-{slug}-A " in first.output

    second = cli_env.invoke(main, ["game", "load", str(path)])
    assert second.exit_code == 0, second.output
    assert second.output.strip() == f"{slug}: no changes"

    data["checkpoints"][1]["tags"] = ["canal"]
    path.write_text(yaml.safe_dump(data))
    third = cli_env.invoke(main, ["game", "load", str(path)])
    assert third.exit_code == 0, third.output
    assert "checkpoint B: tags [] → ['canal']" in third.output
    assert "1 change(s)" in third.output


def test_game_load_bad_file_exits_nonzero(cli_env: CliRunner, tmp_path: Path, slug: str) -> None:
    data = game_file(slug)
    data["checkpoints"][0]["lat"] = -95
    data["cards"][1]["uid"] = "12"
    data["teams"][0]["kind"] = "gang"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    result = cli_env.invoke(main, ["game", "load", str(path)])
    assert result.exit_code == 1
    assert "3 problem(s); nothing was changed" in result.output
    assert "checkpoints[0].lat: must be between -90 and 90" in result.output


def test_token_create_prints_token_last(cli_env: CliRunner, tmp_path: Path, slug: str) -> None:
    path = tmp_path / "game.yaml"
    path.write_text(yaml.safe_dump(game_file(slug)))
    assert cli_env.invoke(main, ["game", "load", str(path)]).exit_code == 0
    result = cli_env.invoke(
        main, ["token", "create", "--role", "team_manager", "--game", slug, "--team", "SCH1"]
    )
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("tt_") and len(last) > 40
    bad = cli_env.invoke(main, ["token", "create", "--role", "evaluator"])
    assert bad.exit_code != 0
    assert "needs --game" in bad.output

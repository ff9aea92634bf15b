"""``taptrail user create``: the first organiser from the shell; one clear line on errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kernel.settings import get_settings
from taptrail.cli import main
from tests.staff.staff_helpers import PASSWORD, new_email


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("TAPTRAIL_DATABASE_URL", database_url)
    monkeypatch.setenv("TAPTRAIL_SECRET_KEY_FILE", str(tmp_path / "key"))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _create(cli: CliRunner, *args: str, password: str = PASSWORD) -> tuple[int, str, str]:
    result = cli.invoke(main, ["user", "create", *args, "--password-stdin"], input=password + "\n")
    return result.exit_code, result.stdout, result.stderr


def test_user_create_makes_an_organiser_of_every_game(cli: CliRunner) -> None:
    email = new_email()
    code, out, err = _create(cli, "--email", email.upper(), "--role", "organiser")
    assert code == 0, err
    assert f"organiser of every game {email} created" in out
    assert PASSWORD not in out + err
    code, out, err = _create(cli, "--email", email, "--role", "organiser")
    assert code == 1
    assert err.strip() == "Error: there is already an account with this e-mail address"


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["--role", "organiser"], "short", "the password must be at least 12 characters long"),
        (["--role", "organiser"], "password1234", "the password is too common"),
        (["--role", "organiser", "--game", "no-such-game-x"], PASSWORD, "no game 'no-such-game-x'"),
        (["--role", "evaluator"], PASSWORD, "an evaluator needs a game"),
    ],
)
def test_user_create_mistakes_are_one_line(
    cli: CliRunner, args: list[str], password: str, message: str
) -> None:
    code, out, err = _create(cli, "--email", new_email(), *args, password=password)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err
    assert password not in err


def test_user_create_prompts_twice_without_echo(cli: CliRunner) -> None:
    email = new_email()
    result = cli.invoke(
        main,
        ["user", "create", "--email", email, "--role", "organiser"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.stderr
    assert PASSWORD not in result.stdout

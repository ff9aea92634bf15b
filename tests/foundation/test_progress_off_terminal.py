"""Progress bars are for people at a terminal: a command run from cron or a pipe is quiet."""

from __future__ import annotations

from pathlib import Path

from taptrail.demo import DEMO_IMD_FILE
from tests.foundation.test_operator_errors import taptrail


def test_an_import_through_a_pipe_prints_no_progress_bar(tmp_path: Path) -> None:
    env = {"TAPTRAIL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    result = taptrail(tmp_path, env, "import", "imd", str(DEMO_IMD_FILE))
    assert result.returncode == 0, result.stderr
    assert "it/s" not in result.stderr and "B/s" not in result.stderr and "%|" not in result.stderr

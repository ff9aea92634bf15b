"""The endpoints' transaction (api/transaction.py): the commit inside the writing lock,
publishing only after it and outside the lock, nothing published for a failed block, a
counted failure committed, and the readers' retries."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from api.app_state import AppState, install
from api.transaction import ATTEMPTS, Transaction
from checkpoints.ingestion import Unavailable


class Recorder:
    """A request whose app state and session write what happens to ``events``."""

    def __init__(self, *, fail_publish: bool = False) -> None:
        self.events: list[str] = []
        self.fail_publish = fail_publish
        recorder = self

        class Lock:
            async def __aenter__(self) -> None:
                recorder.events.append("lock")

            async def __aexit__(self, *exc: object) -> None:
                recorder.events.append("unlock")

        async def publish_scores(game_id: int, delta: Any) -> None:
            if self.fail_publish:
                raise RuntimeError("redis is down")
            self.events.append(f"publish {game_id} {delta}")

        async def after_game_change(game_id: int) -> None:
            self.events.append(f"rebuild {game_id}")

        self.metrics = SimpleNamespace(db_errors=SimpleNamespace(inc=lambda: None))
        unused: Any = None  # the transaction uses only the writing lock, publishing, metrics
        state = AppState(
            settings=unused,
            engine=unused,
            sessionmaker=unused,
            metrics=self.metrics,  # type: ignore[arg-type]
            secret_box=unused,
            redis=None,
            leaderboard=unused,
            scorer=unused,
            writing=Lock,
            publish_scores=publish_scores,
            after_game_change=after_game_change,
            repair_boards=unused,
            game_exists=unused,
            player_data_eraser=unused,
        )
        app: Any = SimpleNamespace(state=SimpleNamespace())
        install(app, state)
        self.request: Any = SimpleNamespace(app=app)

    async def commit(self) -> None:
        self.events.append("commit")

    async def rollback(self) -> None:
        self.events.append("rollback")

    def transaction(self) -> Transaction:
        return Transaction(self.request, self)  # type: ignore[arg-type]


class Refused(Exception):
    pass


async def test_publishing_comes_after_the_commit_and_outside_the_lock() -> None:
    r = Recorder()
    tx = r.transaction()
    async with tx.write():
        r.events.append("work")
        tx.publish_scores(7, "delta")
        tx.rebuild_boards(7)
    assert r.events == ["lock", "work", "commit", "unlock", "publish 7 delta", "rebuild 7"]


async def test_a_failed_block_commits_nothing_and_publishes_nothing() -> None:
    r = Recorder()
    tx = r.transaction()
    with pytest.raises(Refused):
        async with tx.write():
            tx.publish_scores(7, "delta")
            raise Refused
    assert r.events == ["lock", "unlock"]
    async with tx.write():  # what the failed block queued is gone
        pass
    assert r.events == ["lock", "unlock", "lock", "commit", "unlock"]


async def test_a_counted_failure_is_committed_and_raised_without_publishing() -> None:
    r = Recorder()
    tx = r.transaction()
    with pytest.raises(Refused):
        async with tx.write(commit_on=(Refused,)):
            tx.publish_scores(7, "delta")
            raise Refused
    assert r.events == ["lock", "commit", "unlock"]


async def test_a_publishing_failure_does_not_undo_the_answer() -> None:
    r = Recorder(fail_publish=True)
    tx = r.transaction()
    async with tx.write():
        tx.publish_scores(7, "delta")
    assert r.events == ["lock", "commit", "unlock"]


def _deadlock() -> OperationalError:
    return OperationalError("UPDATE", {}, Exception("deadlock detected"))


async def test_run_retries_a_deadlock_and_publishes_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("api.transaction.is_retryable", lambda exc: "deadlock" in str(exc))
    r = Recorder()
    tx = r.transaction()
    tries = []

    async def work() -> int:
        tries.append(1)
        tx.publish_scores(7, f"try{len(tries)}")
        if len(tries) == 1:
            raise _deadlock()
        return 42

    assert await tx.run(work) == 42
    assert r.events == ["lock", "unlock", "rollback", "lock", "commit", "unlock", "publish 7 try2"]


async def test_run_gives_up_with_503_and_nothing_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("api.transaction.is_retryable", lambda exc: "deadlock" in str(exc))
    r = Recorder()
    tx = r.transaction()

    async def work() -> int:
        tx.publish_scores(7, "delta")
        raise _deadlock()

    with pytest.raises(Unavailable):
        await tx.run(work)
    assert r.events.count("rollback") == ATTEMPTS
    assert "commit" not in r.events and not any(e.startswith("publish") for e in r.events)

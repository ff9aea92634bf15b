"""Live board updates to this process's sockets.

A writer calls ``notify(game, boards)``; the bus tells every process (the writer too).
Each process keeps one throttle per (game, board, kind) view that has local subscribers:
the first change is sent at once, later ones within ``throttle_s`` are folded into one send
at the end of the interval, so a view gets at most one message per interval. A message is
a versioned snapshot of the view's top entries read from the store, serialised once and
queued to every subscriber; each subscriber's queue is bounded and drops its oldest message.

With a ``BoardCache``, a joining socket's first snapshot comes from the cache the HTTP board
reads share (a burst of joins makes one store read per view), every change notice this
process sends or hears drops the game's cached boards, and a joiner whose cached snapshot is
older than the view's last message also gets that message: it never misses a change the
other screens already show. The sends after a change still read the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kernel.logging import log
from leaderboard.board_cache import BoardCache, CachedBoards
from leaderboard.bus import Bus
from leaderboard.models import BOARD_NAMES, BoardPage, check_kind
from leaderboard.store import LeaderboardStore

# WebSocket close codes a subscription may end with.
CLOSE_GOING_AWAY = 1001  # server shutting down
CLOSE_SERVICE_RESTART = 1012  # kicked by the server; clients should reconnect


@dataclass(frozen=True, slots=True)
class View:
    game: str
    board: str
    kind: str | None = None

    def __post_init__(self) -> None:
        if self.board not in BOARD_NAMES:
            raise ValueError(f"unknown board {self.board!r}")
        check_kind(self.kind)
        if self.board == "players" and self.kind is not None:
            raise ValueError("the players board has no kind filter")


def encode(view: View, page: BoardPage[Any]) -> str:
    return json.dumps(
        {
            "type": "leaderboard",
            "board": view.board,
            "kind": view.kind,
            "version": page.version,
            "entries": [e.as_dict() for e in page.entries],
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


class Subscription:
    """One socket's feed: a bounded queue of JSON messages that drops its oldest on overflow."""

    def __init__(self, views: Iterable[View], maxsize: int) -> None:
        self.views = tuple(dict.fromkeys(views))
        self.dropped = 0
        self.close_code: int | None = None
        self._queue: deque[str] = deque(maxlen=maxsize)
        self._ready = asyncio.Event()
        self._versions: dict[View, int] = {}

    @property
    def closed(self) -> bool:
        return self.close_code is not None

    def put(self, view: View, version: int, message: str) -> None:
        # A snapshot read just before a concurrent flush may arrive after it: keep versions
        # of a view non-decreasing so a client never goes back in time.
        if self.closed or version < self._versions.get(view, -1):
            return
        self._versions[view] = version
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
        self._queue.append(message)
        self._ready.set()

    async def get(self) -> str | None:
        """The next message; None once the subscription is closed."""
        while not self._queue:
            if self.closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        if self.closed:
            return None
        return self._queue.popleft()

    def pending(self) -> int:
        return len(self._queue)

    def close(self, code: int = 1000) -> None:
        if self.close_code is None:
            self.close_code = code
        self._ready.set()


@dataclass(slots=True)
class _ViewState:
    last_sent: float = -math.inf
    last_entries: list[Any] | None = None
    last_version: int = -1
    last_message: str | None = None
    timer: asyncio.Task[None] | None = None


class Broadcaster:
    def __init__(
        self,
        store: LeaderboardStore,
        bus: Bus,
        *,
        top_n: int = 20,
        throttle_s: float = 1.0,
        queue_size: int = 16,
        clock: Callable[[], float] = time.monotonic,
        cache: BoardCache | None = None,
    ) -> None:
        self.store = store
        self.cache = cache
        self._snapshots = CachedBoards(store, cache) if cache is not None else store
        self.bus = bus
        self.top_n = top_n
        self.throttle_s = throttle_s
        self.queue_size = queue_size
        self._clock = clock
        self._subs: dict[View, set[Subscription]] = {}
        self._state: dict[View, _ViewState] = {}
        self._started = False

    async def start(self) -> None:
        await self.bus.start(self._on_dirty)
        self._started = True

    async def stop(self) -> None:
        self._started = False
        await self.bus.stop()
        timers = [st.timer for st in self._state.values() if st.timer is not None]
        for t in timers:
            t.cancel()
        for t in timers:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._state.clear()
        self.disconnect_all(CLOSE_GOING_AWAY)

    async def notify(self, game: str, boards: Iterable[str]) -> None:
        """Tell every process that these boards of the game changed."""
        changed = frozenset(boards)
        if changed:
            # This process's cache is dropped at once: a read right after the writer's
            # request sees its change, whatever the bus takes to come back.
            if self.cache is not None:
                self.cache.invalidate(game)
            await self.bus.publish(game, changed)

    async def subscribe(self, game: str, views: Iterable[tuple[str, str | None]]) -> Subscription:
        """Register a socket's views; its queue starts with the current snapshot of each."""
        sub = Subscription((View(game, board, kind) for board, kind in views), self.queue_size)
        for view in sub.views:
            self._subs.setdefault(view, set()).add(sub)
        try:
            for view in sub.views:
                page = await self._snapshots.board(view.game, view.board, view.kind, self.top_n)
                sub.put(view, page.version, encode(view, page))
                st = self._state.get(view)
                if (
                    st is not None
                    and st.last_message is not None
                    and st.last_version > page.version
                ):
                    sub.put(view, st.last_version, st.last_message)
        except BaseException:
            self.unsubscribe(sub)
            raise
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        for view in sub.views:
            subs = self._subs.get(view)
            if subs is None:
                continue
            subs.discard(sub)
            if not subs:
                del self._subs[view]
                st = self._state.get(view)
                if st is not None and st.timer is None:
                    del self._state[view]
        sub.close()

    def disconnect_all(self, code: int = CLOSE_SERVICE_RESTART) -> int:
        """Close every local subscription (their sockets close with `code`)."""
        subs = {s for group in self._subs.values() for s in group}
        self._subs.clear()
        for s in subs:
            s.close(code)
        return len(subs)

    def subscriber_count(self) -> int:
        return len({s for group in self._subs.values() for s in group})

    def _on_dirty(self, game: str | None, boards: frozenset[str]) -> None:
        if self.cache is not None:
            self.cache.invalidate(game)
        for view in list(self._subs):
            if game is None or (view.game == game and (not boards or view.board in boards)):
                self._schedule(view)

    def _schedule(self, view: View) -> None:
        st = self._state.setdefault(view, _ViewState())
        if st.timer is not None:
            return  # a send is already due; it will read the latest state
        delay = max(0.0, st.last_sent + self.throttle_s - self._clock())
        st.timer = asyncio.create_task(self._flush(view, st, delay), name=f"flush:{view}")

    async def _flush(self, view: View, st: _ViewState, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        # Stamp before reading: a change landing during the read schedules the next send
        # one interval from now rather than immediately.
        st.timer = None
        st.last_sent = self._clock()
        if not self._subs.get(view):
            self._state.pop(view, None)
            return
        try:
            page = await self.store.board(view.game, view.board, view.kind, self.top_n)
        except Exception:
            log.exception(
                "leaderboard.fanout_read_failed", game=view.game, board=view.board, kind=view.kind
            )
            if self._started:
                self._schedule(view)
            return
        # Notices are per board, not per kind or page: skip a send that would show nothing new.
        if page.entries == st.last_entries:
            return
        st.last_entries = page.entries
        message = encode(view, page)
        st.last_version, st.last_message = page.version, message
        for sub in list(self._subs.get(view, ())):
            sub.put(view, page.version, message)

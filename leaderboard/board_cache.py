"""A short-lived, per-process cache of identical board reads, single-flight.

A hall of phones opening the same board at once asks one process for the same page hundreds
of times within a second (and the live socket sends a board at most once a second anyway).
``BoardCache.get(game, key, load)``:

* answers what ``load()`` returned for the same ``(game, key)`` if that load started less
  than ``ttl_s`` ago: a board is served at most ``ttl_s`` after it was read (a caller that
  joins a read still in flight gets that read, however long it takes);
* runs at most one load per ``(game, key)`` at a time: callers arriving while it runs wait
  for it, so 400 identical concurrent misses make one store read, and a caller that gives
  up (a client hanging up) does not cancel it for the others;
* ``invalidate(game)`` (a change notice; None for every game) drops the game's entries, and
  a caller whose load was in flight across it reads again: no caller gets a board older than
  the last notice this process had seen when its answer came back;
* caches no failure: the callers of a failed load share its outcome. A store that cannot be
  reached (Redis errors, a pool or socket timeout) is logged once per failed load, as the
  structured event ``leaderboard.read_failed`` without a traceback, and every caller gets
  ``kernel.errors.Unavailable`` (503, try again in a second);
* holds at most ``max_entries`` entries: expired ones are dropped first, then the oldest;
  and an expired entry whose read is done is dropped when the next read starts, so the
  cache holds about ``ttl_s`` of reads (fewer objects for the garbage collector to walk);
* ``derived(game, key, load, derive)`` answers ``derive(value)`` of the same shared read,
  computed once per read and kept with it (an HTTP answer's encoded body: a board read
  again within ``ttl_s`` costs no encoding). Every caller of one key passes the same
  ``derive``.

``CachedBoards`` puts a store's public board reads (team boards, the player board, a team
with its neighbours, the live socket's snapshots) behind one cache, keyed by game, board and
parameters. The HTTP board reads and the live socket's join snapshots share it, and both
store backends use it, so they behave the same. A player's own view is not cached.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from redis.exceptions import RedisError

from kernel.errors import Unavailable
from leaderboard.models import BOARD_NAMES, BoardPage, PlayerEntry, TeamEntry
from leaderboard.store import LeaderboardStore

T = TypeVar("T")
U = TypeVar("U")

log = structlog.get_logger("taptrail.leaderboard")

# What a store that cannot be reached raises (asyncio's timeouts are TimeoutError).
UNREACHABLE = (RedisError, OSError, TimeoutError)
UNAVAILABLE_DETAIL = "The leaderboards cannot be read just now; try again in a moment."

# A caller re-reads at most this often when change notices keep landing during its reads.
_MAX_ATTEMPTS = 3


_NOT_DERIVED: Any = object()


@dataclass(slots=True, eq=False)
class _Entry:
    started: float
    generation: tuple[int, int]
    waiting: int = 0
    task: asyncio.Task[Any] | None = field(default=None)
    derived: Any = _NOT_DERIVED


class BoardCache:
    def __init__(
        self,
        ttl_s: float = 1.0,
        *,
        max_entries: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[tuple[str, Hashable], _Entry] = {}
        self._order: deque[tuple[tuple[str, Hashable], _Entry]] = deque()  # see _sweep
        self._generations: dict[str, int] = {}
        self._epoch = 0
        self.loads = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, game: str, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """``load()``'s answer for ``(game, key)``, shared as described in the module."""
        return (await self._get(game, key, load))[1]

    async def derived(
        self,
        game: str,
        key: Hashable,
        load: Callable[[], Awaitable[T]],
        derive: Callable[[T], U],
    ) -> U:
        """``derive`` of ``get``'s answer, computed once per shared read (see the module)."""
        entry, value = await self._get(game, key, load)
        if entry.derived is _NOT_DERIVED:
            entry.derived = derive(value)
        result: U = entry.derived
        return result

    async def _get(
        self, game: str, key: Hashable, load: Callable[[], Awaitable[T]]
    ) -> tuple[_Entry, T]:
        for _ in range(_MAX_ATTEMPTS):
            entry = self._entry(game, key, load)
            assert entry.task is not None
            entry.waiting += 1
            try:
                value: T = await asyncio.shield(entry.task)
            except Unavailable as exc:
                # A fresh exception per caller: one shared instance would collect every
                # caller's frames in its traceback.
                raise Unavailable(exc.detail, retry_after=exc.retry_after) from None
            finally:
                entry.waiting -= 1
            if entry.generation == self._generation(game):
                break
        return entry, value

    def invalidate(self, game: str | None) -> None:
        """The game's boards changed (None: anything may have): read them again."""
        if game is None:
            self._epoch += 1
            self._generations.clear()
            self._entries.clear()
            self._order.clear()
            return
        self._generations[game] = self._generations.get(game, 0) + 1
        for k in [k for k in self._entries if k[0] == game]:
            del self._entries[k]

    def _generation(self, game: str) -> tuple[int, int]:
        return self._epoch, self._generations.get(game, 0)

    def _entry(self, game: str, key: Hashable, load: Callable[[], Awaitable[Any]]) -> _Entry:
        now = self._clock()
        generation = self._generation(game)
        k = (game, key)
        entry = self._entries.get(k)
        if (
            entry is not None
            and entry.task is not None
            and entry.generation == generation
            and (not entry.task.done() or now - entry.started < self.ttl_s)
        ):
            return entry
        entry = _Entry(now, generation)
        entry.task = asyncio.create_task(self._load(k, entry, load), name=f"board-read:{game}")
        entry.task.add_done_callback(_retrieve)
        self._entries.pop(k, None)  # re-inserted last: the dict stays oldest first
        self._entries[k] = entry
        self._order.append((k, entry))
        self._sweep(now)
        self._trim(now)
        return entry

    async def _load(
        self, k: tuple[str, Hashable], entry: _Entry, load: Callable[[], Awaitable[Any]]
    ) -> Any:
        self.loads += 1
        try:
            return await load()
        except UNREACHABLE as exc:
            self._forget(k, entry)
            log.warning(
                "leaderboard.read_failed",
                game=k[0],
                read=repr(k[1]),
                waiting=entry.waiting,
                error=f"{type(exc).__name__}: {exc}"[:300],
            )
            raise Unavailable(UNAVAILABLE_DETAIL) from exc
        except BaseException:
            self._forget(k, entry)
            raise

    def _forget(self, k: tuple[str, Hashable], entry: _Entry) -> None:
        if self._entries.get(k) is entry:
            del self._entries[k]

    def _sweep(self, now: float) -> None:
        # Expired answers are never served again: dropped as reads come, oldest first, so the
        # cache holds about one TTL of reads, not max_entries of old pages for the garbage
        # collector to walk. A queue of the reads in the order they started, not a walk of
        # the dict: a dict whose front keeps being deleted is walked over the holes each
        # time. A read still in flight stays (callers join it) and is looked at again later.
        order, ttl = self._order, self.ttl_s
        for _ in range(len(order)):  # each at most once: those in flight go round again
            k, e = order[0]
            if now - e.started < ttl:
                break
            order.popleft()
            if self._entries.get(k) is not e:
                continue  # replaced, invalidated or trimmed already
            if e.task is not None and not e.task.done():
                order.append((k, e))
            else:
                del self._entries[k]

    def _trim(self, now: float) -> None:
        if len(self._entries) <= self.max_entries:
            return
        for k, e in list(self._entries.items()):
            if e.task is not None and e.task.done() and now - e.started >= self.ttl_s:
                del self._entries[k]
        for k, e in list(self._entries.items()):
            if len(self._entries) <= self.max_entries:
                break
            if e.task is not None and e.task.done():
                del self._entries[k]


def _retrieve(task: asyncio.Task[Any]) -> None:
    # Every caller may have gone (clients hung up): the outcome is still looked at, so
    # asyncio does not report it as never retrieved.
    if not task.cancelled():
        task.exception()


class CachedBoards:
    """A store's public board reads through a ``BoardCache`` (same arguments as the store).

    Each read also comes as ``..._encoded(..., encode)``: ``encode`` of the same shared page
    (or of None: a team not on the board), computed once per read, for an HTTP answer's
    body."""

    def __init__(self, store: LeaderboardStore, cache: BoardCache) -> None:
        self.store = store
        self.cache = cache

    async def teams(
        self,
        game: str,
        by: str = "total",
        kind: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> BoardPage[TeamEntry]:
        return await self.cache.get(game, *self._teams(game, by, kind, limit, offset))

    async def teams_encoded(
        self,
        game: str,
        by: str,
        kind: str | None,
        limit: int,
        offset: int,
        encode: Callable[[BoardPage[TeamEntry]], T],
    ) -> T:
        return await self.cache.derived(game, *self._teams(game, by, kind, limit, offset), encode)

    async def players(self, game: str, limit: int = 20, offset: int = 0) -> BoardPage[PlayerEntry]:
        return await self.cache.get(game, *self._players(game, limit, offset))

    async def players_encoded(
        self, game: str, limit: int, offset: int, encode: Callable[[BoardPage[PlayerEntry]], T]
    ) -> T:
        return await self.cache.derived(game, *self._players(game, limit, offset), encode)

    async def team_around(
        self, game: str, by: str, code: str, n: int = 3, kind: str | None = None
    ) -> BoardPage[TeamEntry] | None:
        return await self.cache.get(game, *self._around(game, by, code, n, kind))

    async def team_around_encoded(
        self,
        game: str,
        by: str,
        code: str,
        n: int,
        kind: str | None,
        encode: Callable[[BoardPage[TeamEntry] | None], T],
    ) -> T:
        return await self.cache.derived(game, *self._around(game, by, code, n, kind), encode)

    async def board(self, game: str, board: str, kind: str | None, limit: int) -> BoardPage[Any]:
        """Top entries of a board named as on the live socket; shares the HTTP reads' keys."""
        if board not in BOARD_NAMES:
            raise ValueError(f"unknown board {board!r}")
        if board == "players":
            return await self.players(game, limit=limit)
        return await self.teams(game, by=board.removeprefix("teams-"), kind=kind, limit=limit)

    # Each read's cache key and store call, shared by the plain and encoded reads.
    def _teams(
        self, game: str, by: str, kind: str | None, limit: int, offset: int
    ) -> tuple[Hashable, Callable[[], Awaitable[BoardPage[TeamEntry]]]]:
        return (
            ("teams", by, kind, limit, offset),
            lambda: self.store.teams(game, by, kind, limit, offset),
        )

    def _players(
        self, game: str, limit: int, offset: int
    ) -> tuple[Hashable, Callable[[], Awaitable[BoardPage[PlayerEntry]]]]:
        return ("players", limit, offset), lambda: self.store.players(game, limit, offset)

    def _around(
        self, game: str, by: str, code: str, n: int, kind: str | None
    ) -> tuple[Hashable, Callable[[], Awaitable[BoardPage[TeamEntry] | None]]]:
        return (
            ("around", by, kind, code, n),
            lambda: self.store.team_around(game, by, code, n, kind),
        )

"""Redis store: sorted sets per board, one hash of records per game, Lua for atomicity.

Keys of a game share the hash tag ``{slug}`` (a cluster keeps a town in one slot):
``<prefix>:{slug}:meta`` (version, min_members), ``...:data:teams`` / ``...:data:players``
(code or holder -> JSON record) and one sorted set per board (``...:teams:total:all``,
``...:teams:avg:school``, ``...:players``...). Members are ``name_key(name) \\0 code`` with
the negated board value as score, so ZRANGE lists best first with ties by name and a rank is
1 + ZCOUNT of strictly lower scores. Every read is one Lua call: O(log N + page).

A record's distance ``d`` is the unrounded double, kept as a string of 17 significant
digits: Redis's cjson writes numbers with only 14, which would round the sums.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any, TypeVar

from redis.asyncio import Redis

from kernel.vocabulary import TEAM_KINDS
from leaderboard.models import (
    DEFAULT_MIN_MEMBERS,
    BoardChanges,
    BoardPage,
    BoardSnapshot,
    PlayerEntry,
    PlayerRecord,
    TeamEntry,
    TeamRecord,
    check_kind,
)
from leaderboard.ranking import (
    average_score,
    distance_score,
    member,
    player_score,
    total_score,
)
from leaderboard.redis_scripts import APPLY, READ, SWAP
from leaderboard.store import (
    LeaderboardStore,
    all_board_keys,
    check_page,
    player_entry,
    team_entry,
    team_segments,
)

T = TypeVar("T")

_CHUNK = 5000
_TEMP_TTL_S = 3600
_BOARDS = all_board_keys(TEAM_KINDS)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _exact(x: float) -> str:
    """A double as a string that parses back to the same double (in Python and Lua)."""
    return repr(float(x) + 0.0)


def _team_json(t: TeamRecord) -> str:
    return _dumps(
        {
            "n": t.name,
            "k": t.kind,
            "p": t.points,
            "d": _exact(t.distance_m),
            "m": t.active_members,
            "s": member(t.name, t.code),
        }
    )


def _player_json(p: PlayerRecord) -> str:
    rec: dict[str, Any] = {
        "n": p.nickname,
        "p": p.points,
        "d": _exact(p.distance_m),
        "pub": p.public,
        "s": member(p.nickname, p.holder),
    }
    if p.team is not None:
        rec["t"] = p.team
    return _dumps(rec)


def _team_places(t: TeamRecord, min_members: int) -> list[tuple[str, float]]:
    avg_board = "avg" if t.active_members >= min_members else "avgx"
    places: list[tuple[str, float]] = []
    for k in ("all", t.kind):
        places += [
            (f"teams:total:{k}", total_score(t.points)),
            (f"teams:distance:{k}", distance_score(t.distance_m)),
            (f"teams:{avg_board}:{k}", average_score(t.points, t.active_members)),
        ]
    return places


def _changes_json(changes: BoardChanges) -> str:
    teams = []
    for t in changes.teams:
        d: dict[str, Any] = {
            "c": t.code,
            "p": t.points,
            "d": t.distance_m,
            "m": t.active_members,
            "ds": member(t.code, t.code),
        }
        if t.name is not None:
            d["n"], d["s"] = t.name, member(t.name, t.code)
        if t.kind is not None:
            d["k"] = t.kind
        teams.append(d)
    players = []
    for p in changes.players:
        u: dict[str, Any] = {
            "h": p.holder,
            "p": p.points,
            "d": p.distance_m,
            "ds": member(p.holder, p.holder),
        }
        if p.nickname is not None:
            u["n"], u["s"] = p.nickname, member(p.nickname, p.holder)
        if p.public is not None:
            u["pub"] = p.public
        if p.team is not None:
            u["t"] = p.team
        players.append(u)
    return _dumps({"teams": teams, "players": players})


class RedisStore(LeaderboardStore):
    def __init__(self, client: Redis, *, key_prefix: str = "tt", owns_client: bool = False):
        self._r = client
        self._prefix = key_prefix
        self._owns = owns_client
        self._apply = client.register_script(APPLY)
        self._read = client.register_script(READ)
        self._swap = client.register_script(SWAP)

    @classmethod
    def from_url(cls, url: str, *, key_prefix: str = "tt") -> RedisStore:
        client = Redis.from_url(url, decode_responses=True)
        return cls(client, key_prefix=key_prefix, owns_client=True)

    @property
    def client(self) -> Redis:
        return self._r

    def game_prefix(self, game: str) -> str:
        if not game or "{" in game or "}" in game:
            raise ValueError(f"invalid game slug {game!r}")
        return f"{self._prefix}:{{{game}}}:"

    def _keys(self, game: str) -> list[str]:
        p = self.game_prefix(game)
        boards = [p + b for b in _BOARDS]
        return [p + "meta", p + "data:teams", p + "data:players", *boards, p + "journal"]

    async def close(self) -> None:
        if self._owns:
            await self._r.aclose()

    async def apply(self, game: str, changes: BoardChanges) -> int:
        for t in changes.teams:
            check_kind(t.kind)
        args: list[str | int] = [
            self.game_prefix(game),
            _changes_json(changes),
            DEFAULT_MIN_MEMBERS,
            changes.xid or "",
        ]
        return int(await self._apply(keys=self._keys(game), args=args))

    async def replace(self, game: str, snapshot: BoardSnapshot) -> int:
        for t in snapshot.teams:
            check_kind(t.kind)
        p = self.game_prefix(game)
        tmp = f"{p}tmp:{uuid.uuid4().hex}:"
        names = ["data:teams", "data:players", *_BOARDS]
        try:
            await self._write_temp(tmp, snapshot)
            keys = [p + "meta"]
            for name in names:
                keys += [p + name, tmp + name]
            keys.append(p + "journal")
            args: list[str | int] = [
                p,
                snapshot.min_members_for_average,
                snapshot.xact_snapshot or "",
            ]
            return int(await self._swap(keys=keys, args=args))
        finally:
            await self._r.delete(*(tmp + name for name in names))

    async def _write_temp(self, tmp: str, snapshot: BoardSnapshot) -> None:
        mm = snapshot.min_members_for_average
        for chunk in _chunks(snapshot.teams):
            boards: dict[str, dict[str, float]] = {}
            for t in chunk:
                mem = member(t.name, t.code)
                for name, score in _team_places(t, mm):
                    boards.setdefault(name, {})[mem] = score
            data = {t.code: _team_json(t) for t in chunk}
            await self._write_chunk(tmp, "data:teams", data, boards)
        for pchunk in _chunks(snapshot.players):
            board = {
                member(u.nickname, u.holder): player_score(u.points, u.distance_m)
                for u in pchunk
                if u.public
            }
            data = {u.holder: _player_json(u) for u in pchunk}
            await self._write_chunk(tmp, "data:players", data, {"players": board} if board else {})

    async def _write_chunk(
        self, tmp: str, data_name: str, data: dict[str, str], boards: dict[str, dict[str, float]]
    ) -> None:
        pipe = self._r.pipeline(transaction=False)
        pipe.hset(tmp + data_name, mapping=data)  # type: ignore[arg-type]
        pipe.expire(tmp + data_name, _TEMP_TTL_S)
        for name, mapping in boards.items():
            pipe.zadd(tmp + name, mapping)  # type: ignore[arg-type]
            pipe.expire(tmp + name, _TEMP_TTL_S)
        await pipe.execute()

    async def exists(self, game: str) -> bool:
        return bool(await self._r.exists(self.game_prefix(game) + "meta"))

    async def version(self, game: str) -> int:
        v = await self._r.hget(self.game_prefix(game) + "meta", "version")  # type: ignore[misc]
        return int(v) if v else 0

    async def delete(self, game: str) -> None:
        await self._r.delete(*self._keys(game))

    async def _read_board(
        self, game: str, data: str, segments: list[str], mode: str, a: int | str, b: int
    ) -> tuple[int, int, int, list[tuple[int, str, dict[str, Any]]]] | None:
        p = self.game_prefix(game)
        keys = [p + "meta", p + data] + [p + s for s in segments]
        res = await self._read(keys=keys, args=[p, mode, a, b])
        version, total = int(res[0]), int(res[1])
        if total < 0:
            return None
        mm = int(res[2])
        found = [
            (rank, key, raw)
            for rank, key, raw in zip(res[3], res[4], res[5], strict=True)
            if raw is not None
        ]
        # The page's records are decoded in one call: one JSON array of the records (each a
        # JSON object), not a json.loads each (a third of the cost of a page of 20).
        records = json.loads("[" + ",".join(raw for _, _, raw in found) + "]")
        rows = [(int(rank), key, r) for (rank, key, _), r in zip(found, records, strict=True)]
        return version, total, mm if mm >= 0 else DEFAULT_MIN_MEMBERS, rows

    async def _teams(
        self, game: str, segments: list[str], mode: str, a: int | str, b: int
    ) -> BoardPage[TeamEntry] | None:
        got = await self._read_board(game, "data:teams", segments, mode, a, b)
        if got is None:
            return None
        version, total, mm, rows = got
        entries = [
            team_entry(rank, code, r["n"], r["k"], int(r["p"]), float(r["d"]), int(r["m"]), mm)
            for rank, code, r in rows
        ]
        return BoardPage(entries, total, version)

    async def _players(
        self, game: str, mode: str, a: int | str, b: int
    ) -> BoardPage[PlayerEntry] | None:
        got = await self._read_board(game, "data:players", ["players"], mode, a, b)
        if got is None:
            return None
        version, total, _, rows = got
        entries = [player_entry(rank, r["n"], int(r["p"]), float(r["d"])) for rank, _, r in rows]
        return BoardPage(entries, total, version)

    async def teams(
        self,
        game: str,
        by: str = "total",
        kind: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> BoardPage[TeamEntry]:
        segments = team_segments(by, kind)
        check_page(limit, offset)
        return await self._teams(game, segments, "page", offset, limit) or BoardPage()

    async def players(self, game: str, limit: int = 20, offset: int = 0) -> BoardPage[PlayerEntry]:
        check_page(limit, offset)
        return await self._players(game, "page", offset, limit) or BoardPage()

    async def team_around(
        self, game: str, by: str, code: str, n: int = 3, kind: str | None = None
    ) -> BoardPage[TeamEntry] | None:
        return await self._teams(game, team_segments(by, kind), "around", code, n)

    async def player_around(
        self, game: str, holder: str, n: int = 3
    ) -> BoardPage[PlayerEntry] | None:
        return await self._players(game, "around", holder, n)


def _chunks(items: Iterable[T]) -> Iterable[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk

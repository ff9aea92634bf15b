"""Which games an actor may change: the one ownership rule of every organiser action.

Some identifiers are global across games (a reader's id is its box's serial number, a game's
slug), so a game file or an endpoint may name something that belongs to another game. An
actor may touch only what is unassigned (new) or belongs to a game in its scope:

- ``GameScope.every_game()``: the operator (command line) and organisers of every game;
  they may move a reader from one game to another;
- ``GameScope.of(game_id)``: an organiser token for one game.

Services that take a scope refuse anything owned by a game outside it, naming the entry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GameScope:
    game_ids: frozenset[int] | None  # None: every game

    @classmethod
    def every_game(cls) -> GameScope:
        return cls(None)

    @classmethod
    def of(cls, *game_ids: int) -> GameScope:
        return cls(frozenset(game_ids))

    @property
    def all_games(self) -> bool:
        return self.game_ids is None

    def covers(self, game_id: int | None) -> bool:
        """May the actor change what belongs to ``game_id`` (None: to no game yet)?"""
        return game_id is None or self.game_ids is None or game_id in self.game_ids


OPERATOR = GameScope.every_game()

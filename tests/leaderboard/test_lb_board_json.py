"""Board answers written straight to JSON (api/board_json.py) are the bytes JSONResponse
makes of the same content, for any names, numbers and sizes."""

from __future__ import annotations

import math
from typing import Any

import pytest
from fastapi.responses import JSONResponse
from hypothesis import given, settings
from hypothesis import strategies as st

from api import board_json
from leaderboard.models import PlayerEntry, TeamEntry
from leaderboard.store import player_entry, team_entry

texts = st.text(max_size=12) | st.sampled_from(
    ['"', "\\", "\x00\x1f\x7f", "é名\u2028", "</script>"]
)
ints = st.integers(-(2**63), 2**63)
floats = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
    [0.0, -0.0, 1e16, 5e-324, 0.1, 182.4, 40.0]
)
team_entries = st.builds(
    TeamEntry, ints, texts, texts, texts, ints, ints, floats, floats, st.booleans()
)
player_entries = st.builds(PlayerEntry, ints, texts, ints, floats)
# Entries as the stores make them, from any stored values.
made_teams = st.builds(
    team_entry,
    st.integers(1, 10**6),
    texts,
    texts,
    texts,
    st.integers(-(10**9), 10**9),
    st.floats(0, 1e9),
    st.integers(-5, 10**5),
    st.integers(0, 50),
)
made_players = st.builds(
    player_entry, st.integers(1, 10**6), texts, st.integers(0, 10**9), st.floats(0, 1e9)
)


def _as_json_response(content: dict[str, Any]) -> bytes:
    return bytes(JSONResponse(content).body)


@settings(max_examples=300, deadline=None)
@given(
    game=texts,
    by=texts,
    kind=st.none() | texts,
    total=ints,
    entries=st.lists(team_entries | made_teams, max_size=8),
    team=st.none() | texts,
)
def test_team_boards_are_the_bytes_of_json_response(
    game: str, by: str, kind: str | None, total: int, entries: list[TeamEntry], team: str | None
) -> None:
    content: dict[str, Any] = {
        "game": game,
        "by": by,
        "kind": kind,
        "total": total,
        "entries": [e.as_dict() for e in entries],
    }
    if team is not None:
        content["team"] = team
    assert board_json.team_board(game, by, kind, total, entries, team) == _as_json_response(content)


@settings(max_examples=300, deadline=None)
@given(game=texts, total=ints, entries=st.lists(player_entries | made_players, max_size=8))
def test_player_boards_are_the_bytes_of_json_response(
    game: str, total: int, entries: list[PlayerEntry]
) -> None:
    content = {"game": game, "total": total, "entries": [e.as_dict() for e in entries]}
    assert board_json.player_board(game, total, entries) == _as_json_response(content)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinities_are_refused_as_json_response_refuses_them(bad: float) -> None:
    entry = TeamEntry(1, "T", "Team", "school", 1, 1, bad, 1.0, True)
    with pytest.raises(ValueError):
        _as_json_response({"entries": [entry.as_dict()]})
    with pytest.raises(ValueError):
        board_json.team_board("g", "total", None, 1, [entry])
    with pytest.raises(ValueError):
        board_json.player_board("g", 1, [PlayerEntry(1, "Fox", 1, bad)])

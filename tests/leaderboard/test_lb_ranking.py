"""Pure ranking rules and the sort keys both stores share."""

from __future__ import annotations

import pytest

from leaderboard.ranking import (
    MAX_PLAYER_POINTS,
    PLAYER_DISTANCE_SCALE,
    average_score,
    competition_ranks,
    member,
    member_key,
    name_key,
    player_score,
    rank_by,
)
from leaderboard.redis_store import RedisStore


def test_standard_competition_ranking() -> None:
    assert competition_ranks([-30, -20, -20, -10]) == [1, 2, 2, 4]
    assert competition_ranks([-5, -5, -5]) == [1, 1, 1]
    # A page that starts inside a tie keeps the tie's rank, then counts positions.
    assert competition_ranks([-20, -10, -10, -7], first_rank=2, offset=2) == [2, 4, 4, 6]


def test_rank_by_lists_ties_by_name() -> None:
    items = [("Dale", 10), ("beech", 20), ("Ash", 30), ("alder", 20), ("Cedar", 10)]
    ranked = rank_by(items, value=lambda i: i[1], name=lambda i: i[0])
    assert [(r, n) for r, (n, _) in ranked] == [
        (1, "Ash"),
        (2, "alder"),
        (2, "beech"),
        (4, "Cedar"),
        (4, "Dale"),
    ]


def test_members_order_by_name_then_key_like_redis() -> None:
    names = ["Zed", "ábc", "abc", "ABC", "ab", "Ab\x00x", "École", "ecole"]
    members = [member(n, f"K{i}") for i, n in enumerate(names)]
    # Redis compares members as UTF-8 bytes; Python compares code points: same order.
    assert sorted(members) == sorted(members, key=lambda m: m.encode())
    assert member_key(member("A\x00B", "CODE")) == "CODE"
    assert name_key("ＡＢＣ") == "abc"  # NFKC + casefold


def test_player_score_orders_points_then_distance_exactly() -> None:
    assert player_score(10, 5) < player_score(10, 4) < player_score(9, 10**9)
    top = player_score(MAX_PLAYER_POINTS, PLAYER_DISTANCE_SCALE - 1)
    assert top == -(MAX_PLAYER_POINTS * PLAYER_DISTANCE_SCALE + PLAYER_DISTANCE_SCALE - 1)
    assert abs(top) < 2**53
    assert player_score(0, -3) == player_score(0, 0) == 0.0


def test_average_score_has_no_negative_zero() -> None:
    assert str(average_score(0, 0)) == "0.0"
    assert average_score(10, 5) == average_score(20, 10) == -2.0


def test_redis_keys_refuse_slugs_that_break_the_hash_tag() -> None:
    store = RedisStore.from_url("redis://127.0.0.1:6379/0")
    assert store.game_prefix("burnley-2027") == "tt:{burnley-2027}:"
    for bad in ("", "a{b", "a}b"):
        with pytest.raises(ValueError):
            store.game_prefix(bad)

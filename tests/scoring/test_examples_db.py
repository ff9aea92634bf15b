"""docs/scoring-rules.md worked examples through the database (score_holders), on both backends."""

from __future__ import annotations

from fastapi import FastAPI

from api.app_state import state_of
from scoring.ledger import ledger_mismatches
from tests.scoring.taps import T, holder_total, insert_taps, local, make_game, outcomes, team_total

CAMPAIGN_PARKS = {
    "code": "PARKS",
    "name": "Double points in the parks",
    "multiplier": 2,
    "starts_at": "2027-05-03T00:00:00+01:00",
    "ends_at": "2027-05-04T00:00:00+01:00",
    "checkpoint_tags": ["park"],
}


async def test_example_1_journey_of_two_legs(app: FastAPI, slug: str) -> None:
    game = await make_game(app, slug)
    async with state_of(app).sessionmaker() as s:
        delta = await insert_taps(
            s,
            game,
            [T("0000001", "A", local(3, 8, 0)), T("0000001", "B", local(3, 8, 15))]
            + [T("0000001", "C", local(3, 8, 40))],
        )
        await s.commit()
        assert await outcomes(s, game, "0000001") == [
            ("journey_start", 0),
            ("leg", 10),
            ("leg", 10),
        ]
        total = await holder_total(s, game, "0000001")
        assert total is not None
        assert (total.points, total.legs, total.taps, total.counted_taps) == (20, 2, 3, 3)
        assert abs(total.distance_m - 1600) < 0.5
        team = await team_total(s, game, "SCH1")  # card 1 was issued to SCH1
        assert team is not None
        assert (team.points, team.legs, team.active_members) == (20, 2, 1)
        assert abs(team.distance_m - 1600) < 0.5
        assert delta.holders[(game.game_id, game.holder("0000001"))]["points"] == 20
        assert delta.teams[(game.game_id, game.teams["SCH1"])]["active_members"] == 1
        assert await ledger_mismatches(s, game.game_id) == []


async def test_example_6_campaign_applies_where_the_leg_ends(app: FastAPI, slug: str) -> None:
    game = await make_game(app, slug, campaigns=[CAMPAIGN_PARKS])
    async with state_of(app).sessionmaker() as s:
        await insert_taps(
            s,
            game,
            [T("0000004", "A", local(3, 8, 0)), T("0000004", "P", local(3, 8, 12))]
            + [T("0000005", "P", local(3, 8, 12)), T("0000005", "A", local(3, 8, 30))],
        )
        await s.commit()
        assert await outcomes(s, game, "0000004") == [("journey_start", 0), ("leg", 20)]
        assert await outcomes(s, game, "0000005") == [("journey_start", 0), ("leg", 10)]
        first = await holder_total(s, game, "0000004")
        second = await holder_total(s, game, "0000005")
        assert first is not None and second is not None
        assert (first.points, second.points) == (20, 10)
        assert await ledger_mismatches(s, game.game_id) == []


async def test_example_7_late_arrival_is_slotted_in(app: FastAPI, slug: str) -> None:
    game = await make_game(app, slug)
    async with state_of(app).sessionmaker() as s:
        # Box B uploads first: alone, B starts a journey.
        first = await insert_taps(s, game, [T("0000002", "B", local(3, 8, 15))])
        await s.commit()
        assert await outcomes(s, game, "0000002") == [("journey_start", 0)]
        assert first.holders[(game.game_id, game.holder("0000002"))]["points"] == 0
    async with state_of(app).sessionmaker() as s:
        # Box A uploads an hour later: A becomes the start and B a leg.
        late = await insert_taps(s, game, [T("0000002", "A", local(3, 8, 0))])
        await s.commit()
        assert await outcomes(s, game, "0000002") == [("journey_start", 0), ("leg", 10)]
        change = late.holders[(game.game_id, game.holder("0000002"))]
        assert change["points"] == 10 and change["taps"] == 1 and change["legs"] == 1
        assert late.points_moved == 10
        total = await holder_total(s, game, "0000002")
        assert total is not None and total.points == 10 and total.taps == 2
        assert abs(total.distance_m - 800) < 0.5
        team = await team_total(s, game, "SCH1")
        assert team is not None and (team.points, team.active_members) == (10, 1)
        assert await ledger_mismatches(s, game.game_id) == []


async def test_example_8_daily_cap(app: FastAPI, slug: str) -> None:
    data_rules = {"journey_window_minutes": 60, "points_per_leg": 10, "max_speed_kmh": 25}
    game = await make_game(
        app,
        slug,
        game={
            "slug": slug,
            "name": "capped",
            "timezone": "Europe/London",
            "starts_at": "2027-05-01T00:00:00+01:00",
            "ends_at": "2027-06-12T00:00:00+01:00",
            "rules": data_rules | {"max_points_per_day": 25},
        },
    )
    async with state_of(app).sessionmaker() as s:
        taps = [
            T("0000006", code, local(3, 8, minute))
            for code, minute in (("A", 0), ("B", 15), ("C", 30), ("A", 45), ("B", 59))
        ]
        # Arrive in two uploads, the later one first.
        await insert_taps(s, game, taps[2:])
        await s.commit()
        await insert_taps(s, game, taps[:2])
        await s.commit()
        assert await outcomes(s, game, "0000006") == [
            ("journey_start", 0),
            ("leg", 10),
            ("leg", 10),
            ("leg", 5),
            ("capped", 0),
        ]
        total = await holder_total(s, game, "0000006")
        assert total is not None and (total.points, total.legs) == (25, 4)
        assert await ledger_mismatches(s, game.game_id) == []

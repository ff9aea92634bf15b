"""The RE-AIM blocks of the report (evaluation/reaim.py) on small hand-worked fixtures."""

from __future__ import annotations

from datetime import date, timedelta

from evaluation.reaim import TeamActivity, add_reaim, adoption, implementation
from evaluation.report_scores import Participant, WaveAnswers, score_columns
from evaluation.reports import build_report
from taptrail.demo.survey_answers import DemoPlayer, demo_answers

RESIDENTS = {"england": {1: 2000, 2: 2000, 3: 2000, 4: 2000, 5: 2000}}
PER_QUINTILE = {1: 40, 2: 30, 3: 10, 4: 10, 5: 10}


def _town() -> tuple[list[Participant], dict[int, int]]:
    """Q1: 40 players, active 1 day a week at registration and 3 at game end; at follow-up
    half are at 2 days (the gain partly held) and half back at 1. Everyone else answered
    only at registration. Active days (taps): Q1 half 0 and half 3, everyone else 12."""
    people: list[Participant] = []
    days: dict[int, int] = {}
    pid = 0
    for q, n in PER_QUINTILE.items():
        for i in range(n):
            pid += 1
            waves = {1: WaveAnswers(activity_days=1)}
            if q == 1:
                waves[2] = WaveAnswers(activity_days=3)
                waves[3] = WaveAnswers(activity_days=2 if i < 20 else 1)
                days[pid] = 0 if i < 20 else 3
            else:
                days[pid] = 12
            people.append(Participant(pid, q, "england", waves))
    return people, days


def _report() -> dict:
    people, days = _town()
    report = build_report(people, RESIDENTS)
    scores = score_columns(people, (1, 2, 3), active_days=days)
    return add_reaim(report, scores, RESIDENTS)


def test_reach_representativeness_and_dissimilarity_hand_worked() -> None:
    reach = _report()["nations"]["england"]["reach"]
    # players 40/30/10/10/10 %, residents 20 % each
    assert reach["representativeness_index"] == {
        "Q1": 2.0,
        "Q2": 1.5,
        "Q3": 0.5,
        "Q4": 0.5,
        "Q5": 0.5,
    }
    assert reach["dissimilarity_index_pct"] == 30.0  # (20 + 10 + 10 + 10 + 10) / 2


def test_reach_index_hidden_with_the_share_it_comes_from() -> None:
    people, _ = _town()
    people = [p for p in people if not (p.imd_quintile == 5 and p.player_id % 10 > 4)]  # Q5: 5
    report = build_report(people, RESIDENTS)
    add_reaim(report, score_columns(people, (1, 2, 3)), RESIDENTS)
    section = report["nations"]["england"]
    shares = {q: section["uptake"]["groups"][q]["share_of_players_pct"] for q in ("Q1", "Q5")}
    assert shares["Q5"] == "*"
    reach = section["reach"]
    assert reach["representativeness_index"]["Q5"] == "*"
    assert reach["dissimilarity_index_pct"] == "*"
    assert "active_days" not in section  # no tap data given


def test_effectiveness_repeats_the_paired_change() -> None:
    report = _report()
    section = report["nations"]["england"]
    eff = section["effectiveness"]["activity"]["wave_2"]
    total = section["activity"]["wave_2"]["groups"]["total"]
    assert eff["n_paired"] == 40
    assert eff["mean_change"] == total["mean_change_days"] == 2.0
    assert eff["p_value"] == total["mcnemar_p"]


def test_maintenance_hand_worked() -> None:
    m = _report()["nations"]["england"]["maintenance"]
    response = m["response"]["groups"]
    assert response["total"]["answered_registration"] == 100
    assert response["total"]["answered_follow_up"] == 40
    assert response["total"]["follow_up_response_pct"] == 40.0
    assert response["Q1"]["follow_up_response_pct"] == 100.0
    assert response["Q2"]["follow_up_response_pct"] == 0.0
    activity = m["activity"]["groups"]
    assert activity["Q1"]["n_three_waves"] == 40
    assert activity["Q1"]["mean_change_game_end"] == 2.0
    assert activity["Q1"]["mean_change_follow_up"] == 0.5
    assert activity["Q1"]["better_at_game_end"] == 40
    assert activity["Q1"]["held_pct"] == 50.0
    assert activity["total"]["held_pct"] == 50.0
    assert activity["Q2"]["n_three_waves"] == 0
    assert activity["Q2"]["mean_change_follow_up"] is None


def test_active_days_by_quintile_hand_worked() -> None:
    groups = _report()["nations"]["england"]["active_days"]["groups"]
    assert groups["Q1"]["players"] == 40
    assert groups["Q1"]["median_active_days"] == 1.5
    assert groups["Q1"]["mean_active_days"] == 1.5
    assert groups["Q1"]["days_0_pct"] == 50.0
    assert groups["Q1"]["days_2_4_pct"] == 50.0
    assert groups["Q2"]["median_active_days"] == 12.0
    assert groups["Q2"]["days_10_plus_pct"] == 100.0
    assert groups["total"]["players"] == 100
    assert groups["total"]["median_active_days"] == 12.0  # 40 x 0 or 3, 60 x 12
    assert groups["total"]["days_0_pct"] == 20.0


def test_active_days_small_group_hidden_with_a_second() -> None:
    people, days = _town()
    people = [p for p in people if not (p.imd_quintile == 5 and p.player_id % 10 > 4)]
    report = build_report(people, RESIDENTS)
    add_reaim(report, score_columns(people, (1, 2, 3), active_days=days), RESIDENTS)
    groups = report["nations"]["england"]["active_days"]["groups"]
    assert groups["Q5"]["players"] == "*"
    assert groups["Q5"]["median_active_days"] == "*"
    hidden = [g for g in ("Q1", "Q2", "Q3", "Q4", "Q5") if groups[g]["median_active_days"] == "*"]
    assert len(hidden) >= 2  # secondary suppression: the whole-game median is published


def test_adoption_organisations_exact_households_protected() -> None:
    teams = [TeamActivity("school", n) for n in (20, 12, 9, 0, 0)]
    teams += [TeamActivity("family", n) for n in (3, 2, 0, 0)]
    teams += [TeamActivity("other", 0), TeamActivity("community", 15)]
    groups = adoption(teams)["groups"]
    assert groups["school"] == {
        "teams_registered": 5,
        "teams_taking_part": 3,
        "teams_taking_part_pct": 60.0,
        "active_players": 40,  # 41 rounded to 5
    }
    assert groups["community"]["teams_taking_part"] == 1  # an organisation: exact
    assert groups["family"]["teams_taking_part"] == "*"  # 2 households: people
    assert groups["family"]["active_players"] == "*"
    # the total and the other kinds would give the families' 2 back: "other" is hidden too
    assert groups["other"]["teams_taking_part"] == "*"
    assert groups["total"]["teams_taking_part"] == 6
    assert groups["total"]["teams_registered"] == 11
    assert groups["total"]["active_players"] == 61


def test_implementation_box_uptime_and_campaigns() -> None:
    d = date(2027, 5, 1)
    result = implementation(
        {"R1": 10, "R2": 5, "R3": 0},
        10,
        [[d, d + timedelta(1), d + timedelta(2)], [d + timedelta(2), d + timedelta(3)]],
    )
    boxes = result["boxes"]
    assert boxes["uptime_pct_by_box"] == {"R1": 100.0, "R2": 50.0, "R3": 0.0}
    assert boxes["median_uptime_pct"] == 50.0
    assert boxes["mean_uptime_pct"] == 50.0
    assert boxes["lowest_uptime_pct"] == 0.0
    assert boxes["boxes_under_80_pct"] == 2
    assert result["campaigns"] == {
        "campaigns_run": 2,
        "campaign_days": 5,
        "days_with_a_campaign": 4,
        "share_of_game_days_pct": 40.0,
    }


def test_ons4_and_loneliness_sections_hand_worked() -> None:
    people = [
        Participant(
            i,
            1,
            "england",
            {
                1: WaveAnswers(life_satisfaction=4, anxiety=7, loneliness="often_always"),
                2: WaveAnswers(life_satisfaction=7, anxiety=3, loneliness="occasionally"),
                3: WaveAnswers(life_satisfaction=6, anxiety=5, loneliness="hardly_ever"),
            },
        )
        for i in range(1, 21)
    ]
    report = build_report(people, RESIDENTS, instruments=("ons4", "loneliness"))
    section = report["nations"]["england"]
    assert "activity" not in section and report["measures"] == [
        "life_satisfaction",
        "worthwhile",
        "happiness",
        "anxiety",
        "loneliness",
    ]
    life = section["life_satisfaction"]["wave_2"]["groups"]["total"]
    assert (life["mean_before"], life["mean_after"], life["mean_change"]) == (4.0, 7.0, 3.0)
    assert (life["low_before_pct"], life["low_after_pct"]) == (100.0, 0.0)
    anxiety = section["anxiety"]["wave_2"]["groups"]["Q1"]
    assert (anxiety["high_before_pct"], anxiety["high_after_pct"]) == (100.0, 0.0)
    lonely = section["loneliness"]["wave_3"]["groups"]["total"]
    assert (lonely["mean_before"], lonely["mean_after"]) == (5.0, 2.0)  # often 5, hardly ever 2
    assert lonely["lonely_often_after_pct"] == 0.0
    assert section["worthwhile"]["wave_2"]["groups"]["total"]["n_paired"] == 0
    held = add_reaim(report, score_columns(people, (1, 2, 3)), RESIDENTS)["nations"]["england"]
    assert held["maintenance"]["anxiety"]["groups"]["total"]["held_pct"] == 100.0  # 7 -> 3 -> 5


def test_demo_answers_are_deterministic_and_follow_the_age_rules() -> None:
    bands = ["5-11", "12-15", "25-44", None]
    players = [DemoPlayer(i, 1 + i % 10, bands[i % 4], date(2027, 5, 1)) for i in range(400)]
    instruments = ("activity", "belonging", "nature", "ons4", "loneliness")
    rows = demo_answers(1, players, instruments, last_day=date(2027, 6, 11))
    assert rows == demo_answers(1, players, instruments, last_day=date(2027, 6, 11))
    band = {p.player_id: p.age_band for p in players}
    for row in rows:
        who = band[row["player_id"]]
        assert (row["life_satisfaction"] is not None) == (who == "25-44")
        assert (row["loneliness"] is not None) == (who in ("12-15", "25-44"))
        assert row["answered_by"] == ("parent_or_carer" if who == "5-11" else "self")
    waves = [row["wave"] for row in rows]
    assert waves.count(1) == 400 and 200 < waves.count(2) < 320 and 130 < waves.count(3) < 250

"""Report builder, checked against small hand-worked datasets."""

import csv
import io
import json
import math
from collections.abc import Iterator
from typing import Any

import pytest

from evaluation.report_scores import GROUPS, Participant, WaveAnswers
from evaluation.reports import CSV_COLUMNS, build_report, report_to_csv_rows
from evaluation.sample_data import sample_participants, sample_residents

RESIDENTS = {"england": {1: 4000, 2: 3000, 3: 2000, 4: 2000, 5: 1000}}


class _Ids:
    def __init__(self) -> None:
        self.next = 0

    def __call__(self) -> int:
        self.next += 1
        return self.next


def _people(
    ids: _Ids,
    count: int,
    quintile: int | None,
    *,
    nation: str | None = "england",
    before: int | None = None,
    after: int | None = None,
    wave: int = 2,
    in_area: bool = True,
) -> list[Participant]:
    waves = {}
    if before is not None:
        waves[1] = WaveAnswers(activity_days=before)
    if after is not None:
        waves[wave] = WaveAnswers(activity_days=after)
    return [
        Participant(ids(), quintile, nation if quintile else nation, waves, in_area)
        for _ in range(count)
    ]


# ---------------------------------------------------------------------------- uptake


def test_uptake_hand_worked_with_primary_and_secondary_suppression() -> None:
    ids = _Ids()
    people = (
        _people(ids, 40, 1)
        + _people(ids, 30, 2)
        + _people(ids, 3, 3)
        + _people(ids, 20, 4)
        + _people(ids, 12, 5)
        + _people(ids, 5, None, nation=None)
    )
    report = build_report(people, RESIDENTS)
    groups = report["nations"]["england"]["uptake"]["groups"]
    assert report["players"] == 110
    # counts: 3 (Q3) and 5 (other) are 1-7; two hidden already, so no partner is needed
    assert [groups[g]["players"] for g in GROUPS] == [40, 30, "*", 20, 10, "*"]
    assert groups["total"]["players"] == 110
    assert groups["total"]["players_in_area"] == 105
    # rates per 1,000 residents: 40/4000, 30/3000, *, 20/2000, 12/1000 -> Q3 hidden (3 players),
    # so the next-smallest (Q5, 12 players) is hidden too: total rate 105/12000 would give it.
    assert [groups[g]["rate_per_1000"] for g in GROUPS] == [10.0, 10.0, "*", 10.0, "*", None]
    assert groups["total"]["rate_per_1000"] == 8.75
    # shares of the 105 players with a known quintile
    assert [groups[g]["share_of_players_pct"] for g in GROUPS[:5]] == [
        round(100 * 40 / 105, 1),
        round(100 * 30 / 105, 1),
        "*",
        round(100 * 20 / 105, 1),
        "*",
    ]
    assert [groups[g]["share_of_residents_pct"] for g in GROUPS[:5]] == [
        33.3,
        25.0,
        16.7,
        16.7,
        8.3,
    ]
    assert [groups[g]["residents"] for g in GROUPS] == [4000, 3000, 2000, 2000, 1000, None]
    # the SII would give the hidden Q3 rate back, so it is suppressed too
    uptake_sii = report["nations"]["england"]["inequality"]["uptake_rate_per_1000"]
    assert uptake_sii["sii"] == "*"
    assert uptake_sii["status"].startswith("suppressed")


def test_uptake_sii_hand_worked() -> None:
    # residents 1000 per quintile; players 50, 40, 30, 20, 10 -> rates 50, 40, 30, 20, 10 per 1,000.
    # Equal shares: ranks 0.1 .. 0.9; slope of rate on rank = -10 / 0.2 = -50; fitted at 0 = 55,
    # at 1 = 5; RII = 5 / 55; mean 30.
    ids = _Ids()
    people = [
        p
        for q, n in zip(range(1, 6), (50, 40, 30, 20, 10), strict=True)
        for p in _people(ids, n, q)
    ]
    residents = {"england": dict.fromkeys(range(1, 6), 1000)}
    sii = build_report(people, residents)["nations"]["england"]["inequality"][
        "uptake_rate_per_1000"
    ]
    assert sii["status"] == "ok"
    assert sii["sii"] == pytest.approx(-50.0)
    assert sii["rii"] == pytest.approx(round(5 / 55, 3))
    assert sii["relative_to_mean"] == pytest.approx(round(-50 / 30, 3))
    assert sii["sii_ci_low"] < -50 < sii["sii_ci_high"]
    assert sii["quintiles_used"] == [1, 2, 3, 4, 5]


def test_players_outside_the_area_are_not_in_the_uptake_rate() -> None:
    ids = _Ids()
    people = _people(ids, 20, 1) + _people(ids, 10, 1, in_area=False) + _people(ids, 20, 2)
    groups = build_report(people, RESIDENTS)["nations"]["england"]["uptake"]["groups"]
    assert groups["Q1"]["players"] == 20
    assert groups["other"]["players"] == 10
    assert groups["Q1"]["rate_per_1000"] == 5.0


# ---------------------------------------------------------------------------- activity


def _activity_dataset() -> list[Participant]:
    """40 paired people in Q1 (plus 10 answering only at baseline), hand-worked below."""
    ids = _Ids()
    spec = [
        # (count, before, after)
        (12, 0, 3),  # inactive -> active (b = 12), more days
        (6, 1, 1),  # stays inactive, same days
        (2, 1, 0),  # stays inactive, fewer days
        (8, 5, 5),
        (4, 3, 6),
        (4, 6, 4),
        (2, 4, 1),  # active -> inactive (c = 4)
        (2, 2, 0),
    ]
    people = []
    for count, before, after in spec:
        people += _people(ids, count, 1, before=before, after=after)
    people += _people(ids, 10, 1, before=1)
    return people


def test_activity_paired_hand_worked() -> None:
    report = build_report(_activity_dataset(), RESIDENTS)
    wave2 = report["nations"]["england"]["activity"]["wave_2"]["groups"]
    q1, total = wave2["Q1"], wave2["total"]
    # counts (rounded below whole-game level)
    assert (q1["n_baseline"], q1["n_paired"]) == (50, 40)
    assert (total["n_baseline"], total["n_paired"]) == (50, 40)
    assert q1["follow_up_pct"] == 80.0  # 40 / 50
    assert q1["inactive_before_pct"] == 50.0  # 20 / 40
    assert q1["inactive_after_pct"] == 30.0  # (6 + 2 + 4) / 40
    assert q1["meets_guideline_before_pct"] == 30.0  # (8 + 4) / 40
    assert q1["meets_guideline_after_pct"] == 30.0  # (8 + 4) / 40
    # b = 12 -> 10 when rounded; c = 4 -> '*', and a (zero) partner is hidden with it
    assert q1["b_inactive_to_active"] == 10
    assert q1["c_active_to_inactive"] == "*"
    assert [wave2[g]["c_active_to_inactive"] for g in GROUPS] == ["*", "*", 0, 0, 0, 0]
    assert (total["b_inactive_to_active"], total["c_active_to_inactive"]) == (12, 4)
    # the McNemar p would give c back, so it is hidden in Q1; whole game: 2 * P(X <= 4 | 16)
    assert q1["mcnemar_p"] == "*"
    p = 2 * sum(math.comb(16, i) for i in range(5)) / 2**16
    assert total["mcnemar_p"] == pytest.approx(float(f"{p:.4g}"))
    # of the 20 inactive at baseline, 12 report more days
    assert q1["inactive_at_baseline_now_more_days_pct"] == 60.0
    # mean change: (12*3 - 2 + 4*3 - 4*2 - 2*3 - 2*2) / 40 = 28 / 40 = 0.7;
    # sum of squared deviations 168.4, variance 168.4 / 39, t(0.975, 39) = 2.0226909
    se = math.sqrt(168.4 / 39) / math.sqrt(40)
    assert q1["mean_change_days"] == 0.7
    assert q1["mean_change_days_ci_low"] == round(0.7 - 2.0226909 * se, 2)
    assert q1["mean_change_days_ci_high"] == round(0.7 + 2.0226909 * se, 2)
    # empty groups: counts 0, nothing else applicable
    assert wave2["Q3"]["n_paired"] == 0
    assert wave2["Q3"]["inactive_before_pct"] is None
    assert wave2["Q3"]["mean_change_days"] is None
    # wave 3 has no answers at all
    wave3 = report["nations"]["england"]["activity"]["wave_3"]["groups"]
    assert wave3["total"]["n_paired"] == 0
    assert wave3["total"]["follow_up_pct"] == 0.0


def test_small_groups_hide_means_and_tests() -> None:
    ids = _Ids()
    people = []
    for q in range(1, 6):
        people += _people(ids, 30, q, before=1, after=3)
    people += _people(ids, 6, 2, before=2, after=2)  # Q2: 36 paired
    small = _people(ids, 8, 5, before=0, after=1)  # Q5 -> 38 paired, fine
    people += small
    people += _people(ids, 9, None, nation=None, before=4, after=5)  # other: 9 paired
    wave2 = build_report(people, RESIDENTS)["nations"]["england"]["activity"]["wave_2"]["groups"]
    # other has 9 paired people: mean hidden, and the smallest other group's mean with it
    assert wave2["other"]["mean_change_days"] == "*"
    assert wave2["other"]["mcnemar_p"] == "*"
    hidden_means = [g for g in GROUPS if wave2[g]["mean_change_days"] == "*"]
    assert len(hidden_means) == 2
    assert wave2["total"]["mean_change_days"] != "*"


# ---------------------------------------------------------------------------- nations


def test_nations_are_never_pooled() -> None:
    ids = _Ids()
    people = _people(ids, 20, 1, nation="england") + _people(ids, 30, 1, nation="wales")
    residents = {"england": {1: 1000}, "wales": {1: 2000}}
    report = build_report(people, residents)
    assert sorted(report["nations"]) == ["england", "wales"]
    england = report["nations"]["england"]["uptake"]["groups"]
    wales = report["nations"]["wales"]["uptake"]["groups"]
    assert (england["Q1"]["players"], england["other"]["players"]) == (20, 30)
    assert (wales["Q1"]["players"], wales["other"]["players"]) == (30, 20)
    assert england["total"]["players"] == wales["total"]["players"] == 50


# ---------------------------------------------------------------------------- belonging, nature


def test_nature_score_needs_four_of_six_items() -> None:
    assert WaveAnswers(nature=(7, 7, 7, None, None, None)).nature_score is None
    assert WaveAnswers(nature=(7, 6, 5, 4, None, None)).nature_score == 5.5
    assert WaveAnswers(nature=(1, 2, 3, 4, 5, 6)).nature_score == 3.5
    with pytest.raises(ValueError):
        WaveAnswers(nature=(8,))
    with pytest.raises(ValueError):
        WaveAnswers(activity_days=8)
    with pytest.raises(ValueError):
        WaveAnswers(belonging="somewhat")
    with pytest.raises(ValueError):
        Participant(1, 6, "england")


def test_belonging_and_nature_paired() -> None:
    ids = _Ids()
    people = []

    def add(
        count: int, b0: str, b1: str, n0: tuple[int | None, ...], n1: tuple[int | None, ...]
    ) -> None:
        for _ in range(count):
            people.append(
                Participant(
                    ids(),
                    2,
                    "england",
                    {
                        1: WaveAnswers(belonging=b0, nature=n0),
                        2: WaveAnswers(belonging=b1, nature=n1),
                    },
                )
            )

    add(10, "not_at_all", "fairly", (4, 4, 4, 4, 4, 4), (5, 5, 5, 5, 5, 5))  # b, +2 levels
    add(10, "not_very", "not_very", (4, 4, 4, 4, None, None), (4, 4, 4, 4, 4, 4))
    add(10, "very", "fairly", (6, 6, 6, 6, 6, 6), (6, 6, 6, 6, 6, None))
    add(10, "fairly", "not_very", (5, 5, 5, 5, 5, 5), (4, 4, 4, 4, 4, 4))  # c, -1 level
    report = build_report(people, RESIDENTS)["nations"]["england"]
    q2 = report["belonging"]["wave_2"]["groups"]["Q2"]
    assert q2["n_paired"] == 40
    assert q2["belongs_before_pct"] == 50.0
    assert q2["belongs_after_pct"] == 50.0
    assert q2["b_not_belonging_to_belonging"] == 10
    assert q2["c_belonging_to_not_belonging"] == 10
    assert q2["mcnemar_p"] == 1.0
    assert q2["not_belonging_at_baseline_now_stronger_pct"] == 50.0  # 10 of 20
    # score changes: +2 (10), 0 (10), -1 (10), -1 (10) -> mean 0.0
    assert q2["mean_change_score"] == 0.0
    nature = report["nature"]["wave_2"]["groups"]["Q2"]
    # changes: +1, 0, 0, -1 -> mean 0; before: (4 + 4 + 6 + 5) / 4 = 4.75
    assert nature["n_paired"] == 40
    assert nature["mean_before"] == 4.75
    assert nature["mean_after"] == 4.75
    assert nature["mean_change"] == 0.0
    assert nature["mean_change_p_value"] == 1.0


# ---------------------------------------------------------------------------- whole report


def _walk(report: dict[str, Any]) -> Iterator[tuple[str, str, str, Any]]:
    for nation, section in report["nations"].items():
        for group, metrics in section["uptake"]["groups"].items():
            for metric, value in metrics.items():
                yield nation, group, metric, value
        for name in ("activity", "belonging", "nature"):
            for block in section[name].values():
                for group, metrics in block["groups"].items():
                    for metric, value in metrics.items():
                        yield nation, group, metric, value


COUNT_METRICS = ("players", "n_baseline", "n_paired")


@pytest.mark.parametrize("seed", range(6))
def test_no_small_counts_published_below_whole_game(seed: int) -> None:
    people = sample_participants(90, seed=seed)
    report = build_report(people, sample_residents(seed=seed, total=20_000))
    json.dumps(report)  # JSON-ready
    checked = 0
    for _nation, group, metric, value in _walk(report):
        is_count = metric in COUNT_METRICS or metric.startswith(("b_", "c_"))
        if group == "total" or not is_count:
            continue
        checked += 1
        assert (
            value == "*"
            or value == 0
            or (isinstance(value, int) and value % 5 == 0 and value >= 10)
        ), (group, metric, value)
    assert checked > 50
    # every measure with exactly one hidden group would be recoverable from the total
    section = report["nations"]["england"]
    blocks = [section["uptake"]] + [
        b for name in ("activity", "belonging", "nature") for b in section[name].values()
    ]
    for block in blocks:
        metrics = block["groups"]["Q1"].keys()
        for metric in metrics:
            hidden = [g for g in GROUPS if block["groups"][g].get(metric) == "*"]
            if metric.endswith(("_ci_low", "_ci_high", "_p_value")) or metric == "mcnemar_p":
                continue  # follow their mean / counts; not additive
            assert len(hidden) != 1, (metric, hidden)


def test_csv_rows() -> None:
    report = build_report(sample_participants(400, seed=3), sample_residents(seed=3))
    rows = report_to_csv_rows(report)
    assert all(tuple(r) == CSV_COLUMNS for r in rows)
    assert rows[0] == {
        "nation": "",
        "section": "game",
        "comparison": "",
        "group": "total",
        "metric": "players",
        "value": 400,
    }
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    parsed = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert len(parsed) == len(rows)
    sections = {r["section"] for r in parsed}
    assert sections == {"game", "uptake", "activity", "belonging", "nature", "inequality"}
    q1_players = next(
        r
        for r in parsed
        if r["section"] == "uptake" and r["group"] == "Q1" and r["metric"] == "players"
    )
    assert q1_players["value"] == str(
        report["nations"]["england"]["uptake"]["groups"]["Q1"]["players"]
    )
    used = next(r for r in parsed if r["metric"] == "quintiles_used")
    assert used["value"] == "1;2;3;4;5"


def test_sample_data_is_deterministic_and_plausible() -> None:
    a = sample_participants(2000, seed=11)
    b = sample_participants(2000, seed=11)
    c = sample_participants(2000, seed=12)
    assert a == b
    assert a != c
    follow = sum(2 in p.waves for p in a) / len(a)
    assert 0.5 < follow < 0.6
    six_months = sum(3 in p.waves for p in a) / len(a)
    assert 0.2 < six_months < 0.3
    q1 = sum(p.imd_quintile == 1 for p in a)
    q5 = sum(p.imd_quintile == 5 for p in a)
    assert q1 > 2 * q5
    assert sample_residents(seed=1) == sample_residents(seed=1)
    assert sum(sample_residents(seed=1, total=50_000)["england"].values()) == pytest.approx(
        50_000, abs=5
    )


def test_inequality_needs_three_quintiles_with_residents() -> None:
    ids = _Ids()
    people = _people(ids, 30, 1, before=1, after=3) + _people(ids, 30, 2, before=1, after=2)
    report = build_report(people, {"england": {1: 1000, 2: 1000}})
    inequality = report["nations"]["england"]["inequality"]
    assert inequality["uptake_rate_per_1000"]["status"].startswith("not enough quintiles")
    assert inequality["uptake_rate_per_1000"]["quintiles_used"] == [1, 2]
    uptake = report["nations"]["england"]["uptake"]["groups"]
    assert uptake["Q3"]["rate_per_1000"] is None  # no residents
    assert uptake["Q3"]["share_of_residents_pct"] == 0.0


def test_change_sii_needs_a_value_in_every_quintile_with_residents() -> None:
    ids = _Ids()
    people = []
    for q in (1, 2, 3):
        people += _people(ids, 30, q, before=1, after=1 + q)
    people += _people(ids, 30, 4)  # players, but no survey answers
    residents = {"england": {1: 1000, 2: 1000, 3: 1000, 4: 1000}}
    inequality = build_report(people, residents)["nations"]["england"]["inequality"]
    assert inequality["activity_mean_change_days_wave_2"]["status"] == (
        "no value for every quintile"
    )
    people += _people(ids, 30, 4, before=1, after=5)
    change = build_report(people, residents)["nations"]["england"]["inequality"][
        "activity_mean_change_days_wave_2"
    ]
    # changes 1, 2, 3, 4 days at ranks 0.125 .. 0.875: slope 1 / 0.25 = 4 days
    assert change["status"] == "ok"
    assert change["sii"] == pytest.approx(4.0)
    assert change["rii"] == pytest.approx(round(4.5 / 0.5, 3))  # fitted 0.5 -> 4.5

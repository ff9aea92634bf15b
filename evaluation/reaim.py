"""The RE-AIM view of a game's evaluation (Glasgow, Vogt and Boles 1999): reach, adoption,
effectiveness, implementation and maintenance. Pure: plain inputs (read by
:mod:`evaluation.report_service`), JSON-ready output, added to a report that
:mod:`evaluation.reports` built.

* **reach** (per nation): for each quintile, the representativeness index = share of
  players / share of residents (in-area players with a known quintile; 1 = as many players
  as residents would give, above 1 = over-represented), and the dissimilarity index
  D = 1/2 x sum over quintiles of |share of players - share of residents|, in percentage
  points (0 = players spread like residents; D is the share of players who would have to
  come from another quintile to match). An index is published only when that quintile's
  share of players is; D only when every quintile's is.
* **adoption** (whole game): teams by kind registered in the game file, teams taking part
  (at least one current member with a counted tap) and the active players in them. Schools,
  community groups and workplaces are organisations named in the game file: their counts
  are exact. Family and "other" teams are households and small groups of people: teams
  taking part get the count rule (1-7 -> ``*``, rounded to 5) with secondary suppression
  between those two kinds. Active players are people: count rule.
* **effectiveness** (per nation): the whole-game paired change of every measure at game end
  and at follow-up, as in the measure's own section (already disclosure-controlled).
* **implementation**: boxes (whole game): the share of game days so far each box was heard
  from (a heartbeat or a tap), summarised over boxes; boxes are not people, so exact.
  Campaigns run (count, campaign days, days with a campaign on). Per nation: active days
  per player (days with at least one tap) by quintile: players, median and mean (the
  statistic rule), and the distribution in bands (percentage rule).
* **maintenance** (per nation): the follow-up wave's response (answered anything at wave 3
  of those who answered at wave 1), and for each measure, among people who answered it at
  all three waves: the mean change to game end and to follow-up, and of those better off at
  game end (more active days; higher scores; for anxiety and loneliness lower), the share
  still better off than at registration at follow-up (``held_pct``).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import numpy as np

from evaluation import disclosure as dc
from evaluation import stats
from evaluation.report_scores import BASELINE_WAVE, GROUPS, TOTAL, ScoreColumns
from evaluation.report_sections import SECTIONS, Metrics, bincount, put_counts, put_means, put_pcts
from kernel.vocabulary import TEAM_KINDS

__all__ = [
    "ACTIVE_DAY_BANDS",
    "BETTER_LOWER",
    "ORGANISATION_KINDS",
    "TeamActivity",
    "add_reaim",
    "adoption",
    "implementation",
]

#: teams that are organisations (named in the game file): their counts are published exactly
ORGANISATION_KINDS: Final = frozenset({"school", "community", "workplace"})
#: measures where a lower score is better
BETTER_LOWER: Final = frozenset({"anxiety", "loneliness"})
#: (name, lowest, highest) active days; None = no upper end
ACTIVE_DAY_BANDS: Final = (
    ("0", 0, 0),
    ("1", 1, 1),
    ("2_4", 2, 4),
    ("5_9", 5, 9),
    ("10_plus", 10, None),
)
UPTIME_TARGET_PCT: Final = 80.0
_OTHER: Final = len(GROUPS) - 1


@dataclass(frozen=True, slots=True)
class TeamActivity:
    """A team of the game and how many of its current members have a counted tap."""

    kind: str
    active_members: int


# --------------------------------------------------------------------------------- reach


def _reach(
    in_area: Sequence[int], residents: Sequence[int], shares: Sequence[Any]
) -> dict[str, Any]:
    known = sum(in_area)
    total_res = sum(residents)
    index: dict[str, Any] = {}
    for q in range(5):
        if known == 0 or total_res == 0 or residents[q] == 0:
            index[GROUPS[q]] = None
        elif shares[q] == dc.SUPPRESSED:
            index[GROUPS[q]] = dc.SUPPRESSED
        else:
            index[GROUPS[q]] = round((in_area[q] / known) / (residents[q] / total_res), 2)
    if known == 0 or total_res == 0:
        dissimilarity: Any = None
    elif any(shares[q] == dc.SUPPRESSED for q in range(5)):
        dissimilarity = dc.SUPPRESSED
    else:
        dissimilarity = round(
            50 * sum(abs(in_area[q] / known - residents[q] / total_res) for q in range(5)), 1
        )
    return {
        "players_in_area_with_quintile": known,
        "representativeness_index": index,
        "dissimilarity_index_pct": dissimilarity,
    }


# ------------------------------------------------------------------------- effectiveness

_P_KEY: Final = {"activity": "mcnemar_p", "belonging": "mcnemar_p"}


def _effectiveness(section: Mapping[str, Any], measures: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for measure in measures:
        metric = SECTIONS[measure][1]
        p_key = _P_KEY.get(measure, f"{metric}_p_value")
        by_wave: dict[str, Any] = {}
        for wave, block in section[measure].items():
            total = block["groups"][TOTAL]
            by_wave[wave] = {
                "n_paired": total.get("n_paired"),
                "mean_change": total.get(metric),
                "ci_low": total.get(f"{metric}_ci_low"),
                "ci_high": total.get(f"{metric}_ci_high"),
                "p_value": total.get(p_key),
            }
        out[measure] = by_wave
    return out


# ------------------------------------------------------------------------ implementation


def _active_days(days: np.ndarray, groups: np.ndarray) -> dict[str, Any]:
    m = Metrics()
    players = bincount(groups)
    hidden = put_counts(m, "players", players)
    per_group = [days[groups == g] for g in range(len(GROUPS))]
    medians = [float(np.median(d)) if len(d) else None for d in per_group]
    published, hidden_stats = dc.protect_statistics(medians, players, also_hidden=hidden)
    total_median = float(np.median(days)) if len(days) else None
    m.put("median_active_days", published, dc.disclose_statistic(total_median, len(days)))
    put_means(
        m,
        "mean_active_days",
        [stats.mean_with_ci(d.tolist()) for d in per_group],
        stats.mean_with_ci(days.tolist()),
        with_ci=False,
    )
    for name, low, high in ACTIVE_DAY_BANDS:
        inside = (days >= low) if high is None else ((days >= low) & (days <= high))
        put_pcts(m, f"days_{name}_pct", bincount(groups[inside]), players, hidden | hidden_stats)
    return {"groups": m.groups()}


def implementation(
    box_days_heard: Mapping[str, int],
    game_days: int,
    campaign_dates: Sequence[Sequence[date]],
) -> dict[str, Any]:
    """Box uptime and campaigns (whole game). ``box_days_heard``: box -> game days so far
    it was heard from; ``game_days``: game days so far; ``campaign_dates``: for each
    campaign run so far, the game days it was on."""
    uptime = {
        box: round(100 * min(heard, game_days) / game_days, 1) if game_days else None
        for box, heard in sorted(box_days_heard.items())
    }
    values = [v for v in uptime.values() if v is not None]
    on_days = {d for dates in campaign_dates for d in dates}
    return {
        "boxes": {
            "boxes": len(box_days_heard),
            "game_days_so_far": game_days,
            "median_uptime_pct": round(statistics.median(values), 1) if values else None,
            "mean_uptime_pct": round(statistics.fmean(values), 1) if values else None,
            "lowest_uptime_pct": min(values) if values else None,
            f"boxes_under_{UPTIME_TARGET_PCT:.0f}_pct": sum(v < UPTIME_TARGET_PCT for v in values),
            "uptime_pct_by_box": uptime,
        },
        "campaigns": {
            "campaigns_run": len(campaign_dates),
            "campaign_days": sum(len(dates) for dates in campaign_dates),
            "days_with_a_campaign": len(on_days),
            "share_of_game_days_pct": round(100 * len(on_days) / game_days, 1)
            if game_days
            else None,
        },
    }


# ------------------------------------------------------------------------------- adoption


def adoption(teams: Sequence[TeamActivity]) -> dict[str, Any]:
    """Teams registered, taking part and their active players, by kind (whole game)."""
    kinds = list(TEAM_KINDS) + sorted({t.kind for t in teams} - set(TEAM_KINDS))
    registered = [sum(t.kind == k for t in teams) for k in kinds]
    taking = [sum(t.kind == k and t.active_members > 0 for t in teams) for k in kinds]
    active = [sum(t.active_members for t in teams if t.kind == k) for k in kinds]
    people_kinds = [k not in ORGANISATION_KINDS for k in kinds]
    primary = {i for i, n in enumerate(taking) if people_kinds[i] and dc.is_small_count(n)}
    hidden = dc.complementary_suppression(taking, primary, eligible=people_kinds)
    protected_active = dc.protect_counts(active)
    groups: dict[str, dict[str, Any]] = {}
    for i, kind in enumerate(kinds):
        if i in hidden:
            shown: Any = dc.SUPPRESSED
            pct: Any = dc.SUPPRESSED
        elif people_kinds[i]:
            shown = dc.disclose_count(taking[i])
            pct = dc.disclose_percentage(taking[i], registered[i])
        else:
            shown = taking[i]
            pct = _pct(taking[i], registered[i])
        groups[kind] = {
            "teams_registered": registered[i],
            "teams_taking_part": shown,
            "teams_taking_part_pct": pct,
            "active_players": protected_active.values[i],
        }
    groups[TOTAL] = {
        "teams_registered": sum(registered),
        "teams_taking_part": sum(taking),
        "teams_taking_part_pct": _pct(sum(taking), sum(registered)),
        "active_players": protected_active.total,
    }
    return {"groups": groups}


def _pct(num: int, den: int) -> float | None:
    return round(100 * num / den, 1) if den else None


# ---------------------------------------------------------------------------- maintenance


def _maintenance(
    scores: ScoreColumns, groups: np.ndarray, measures: Sequence[str]
) -> dict[str, Any]:
    waves = (BASELINE_WAVE, 2, 3)

    def answered(wave: int) -> np.ndarray:
        out = np.zeros(len(scores), dtype=bool)
        for measure in measures:
            out |= ~np.isnan(scores.values[(measure, wave)])
        return out

    base = answered(BASELINE_WAVE)
    m = Metrics()
    n_base = bincount(groups[base])
    n_follow = bincount(groups[base & answered(3)])
    hidden = put_counts(m, "answered_registration", n_base)
    hidden |= put_counts(m, "answered_follow_up", n_follow)
    put_pcts(m, "follow_up_response_pct", n_follow, n_base, hidden)
    out: dict[str, Any] = {"response": {"groups": m.groups()}}
    for measure in measures:
        before, end, later = (scores.values[(measure, w)] for w in waves)
        every = ~np.isnan(before) & ~np.isnan(end) & ~np.isnan(later)
        g = groups[every]
        b, e, f = before[every], end[every], later[every]
        sign = -1.0 if measure in BETTER_LOWER else 1.0
        better_end = sign * (e - b) > 0
        still = better_end & (sign * (f - b) > 0)
        mm = Metrics()
        hidden_n = put_counts(mm, "n_three_waves", bincount(g))
        for name, diff in (("mean_change_game_end", e - b), ("mean_change_follow_up", f - b)):
            put_means(
                mm,
                name,
                [stats.mean_with_ci(diff[g == k].tolist()) for k in range(len(GROUPS))],
                stats.mean_with_ci(diff.tolist()),
            )
        hidden_better = put_counts(mm, "better_at_game_end", bincount(g[better_end]))
        put_pcts(
            mm,
            "held_pct",
            bincount(g[still]),
            bincount(g[better_end]),
            hidden_n | hidden_better,
        )
        out[measure] = {"groups": mm.groups()}
    return out


# ---------------------------------------------------------------------------------- all


def add_reaim(
    report: dict[str, Any],
    scores: ScoreColumns,
    residents: Mapping[str, Mapping[int, int]],
    *,
    teams: Sequence[TeamActivity] | None = None,
    box_days_heard: Mapping[str, int] | None = None,
    game_days: int = 0,
    campaign_dates: Sequence[Sequence[date]] = (),
) -> dict[str, Any]:
    """Add the RE-AIM blocks to ``report`` (built from the same ``scores``); returns it.

    Per nation: ``reach``, ``effectiveness``, ``active_days`` (when ``scores`` has active
    days) and ``maintenance`` (when the report has waves 2 and 3). Whole game:
    ``adoption`` (when ``teams`` is given) and ``implementation``."""
    measures = list(report.get("measures", ()))
    for nation, section in report["nations"].items():
        groups = scores.groups(nation)
        res = [int(residents.get(nation, {}).get(q, 0)) for q in range(1, 6)]
        in_area = bincount(groups[(groups < _OTHER) & scores.in_area])[:5]
        shares = [section["uptake"]["groups"][q]["share_of_players_pct"] for q in GROUPS[:5]]
        section["reach"] = _reach(in_area, res, shares)
        section["effectiveness"] = _effectiveness(section, measures)
        if scores.active_days is not None:
            section["active_days"] = _active_days(scores.active_days, groups)
        if all((mm, w) in scores.values for mm in measures for w in (1, 2, 3)):
            section["maintenance"] = _maintenance(scores, groups, measures)
    if teams is not None:
        report["adoption"] = adoption(teams)
    if box_days_heard is not None:
        report["implementation"] = implementation(box_days_heard, game_days, campaign_dates)
    report.setdefault("definitions", {})["reaim"] = (__doc__ or "").split("\n\n", 1)[1].strip()
    return report
